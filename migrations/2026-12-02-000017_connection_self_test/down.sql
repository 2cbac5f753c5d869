DROP TABLE connection_tests;
ALTER TABLE scim_tokens DROP COLUMN purpose;
