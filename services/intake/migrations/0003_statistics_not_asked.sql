-- Statistics consent is three-valued (issue 15): NULL is "not asked", which counts; false is a
-- recorded "no". Rows written before keep their value: a false then cannot be told from a default.
ALTER TABLE consents ALTER COLUMN statistics DROP NOT NULL;
