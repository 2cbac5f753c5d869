DROP TABLE admin_sign_in_failures;
