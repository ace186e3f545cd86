-- Staff bearer tokens. Only a SHA-256 of each token is kept: tokens are 256-bit random strings, so
-- a fast hash is enough, and the token itself is shown once, when it is created.
CREATE TABLE staff_tokens (
    token_id    uuid        PRIMARY KEY,
    role        text        NOT NULL CHECK (role IN ('specialist', 'supervisor', 'admin')),
    token_hash  bytea       NOT NULL UNIQUE,
    label       text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
