DROP TABLE cards;
DROP TABLE group_members;
DROP TABLE groups;
