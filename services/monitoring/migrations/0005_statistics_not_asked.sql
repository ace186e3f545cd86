-- Statistics consent is three-valued (issue 15): NULL is "not asked" and is counted; false is a
-- recorded "no" and never is. Rows read from earlier events keep their value: an earlier false may
-- have been the old default rather than a "no", and a "no" must never be counted.
ALTER TABLE tips ALTER COLUMN statistics_consent DROP NOT NULL;
