-- Issue 14: packages sealed to their agency, acknowledgements signed by it. Lantern keeps only the
-- public halves; each agency's liaison unit holds the private ones. A key is never deleted: a new
-- one retires the one before (`lantern agency register`), so an agency has one current key.
CREATE TABLE agency_keys (
    key_id                 text        PRIMARY KEY CHECK (key_id ~ '^ak1-[A-Za-z0-9_-]{22}$'),
    agency_id              text        NOT NULL,
    encryption_public_key  bytea       NOT NULL CHECK (length(encryption_public_key) = 32),
    signing_public_key     bytea       NOT NULL CHECK (length(signing_public_key) = 32),
    registered_at          timestamptz NOT NULL DEFAULT now(),
    retired_at             timestamptz
);
CREATE UNIQUE INDEX agency_keys_current ON agency_keys (agency_id) WHERE retired_at IS NULL;
