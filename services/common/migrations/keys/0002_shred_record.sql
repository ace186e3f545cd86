-- Who shredded a tip's key and why: the admin's person and token, and a reason code (never free
-- text, which could name someone). Keys shredded before this migration keep no record.
ALTER TABLE data_keys
    ADD COLUMN shredded_by_person uuid,
    ADD COLUMN shredded_by_token  uuid,
    ADD COLUMN shred_reason       text CHECK (shred_reason IN (
        'reporter_request', 'safety', 'legal_order', 'retention', 'entered_in_error'));

ALTER TABLE data_keys ADD CONSTRAINT data_keys_shred_recorded
    CHECK (shredded_at IS NULL OR (shred_reason IS NOT NULL AND shredded_by_token IS NOT NULL)) NOT VALID;
