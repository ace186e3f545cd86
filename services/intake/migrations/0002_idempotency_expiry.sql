-- Idempotency keys now expire after 24 hours and their fingerprints are HMACs under a key kept
-- outside the database. The rows written before held plain SHA-256 digests of whole submissions,
-- which a reader of the table could test guesses against: they go.
DELETE FROM idempotency_keys;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_tip_id ON idempotency_keys (tip_id);
