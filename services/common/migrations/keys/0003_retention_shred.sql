-- The retention job shreds a tip's key when its identifying data expires: no person and no token
-- stand behind it, so the row names the job instead. Every other shred still names a token.
ALTER TABLE data_keys ADD COLUMN shredded_by_job text CHECK (shredded_by_job ~ '^[a-z][a-z0-9_:-]{0,63}$');

ALTER TABLE data_keys DROP CONSTRAINT data_keys_shred_recorded;
ALTER TABLE data_keys ADD CONSTRAINT data_keys_shred_recorded CHECK (
    shredded_at IS NULL OR (shred_reason IS NOT NULL AND (
        shredded_by_token IS NOT NULL OR (shred_reason = 'retention' AND shredded_by_job IS NOT NULL)))
) NOT VALID;
