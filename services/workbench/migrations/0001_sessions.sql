-- Signed-in staff. The browser holds only the session secret (an HttpOnly cookie); the row is found by
-- its SHA-256, and the person's staff token is kept sealed under a key derived from that secret, so
-- these rows alone open nothing: without the cookie no token can be recovered from them.
CREATE TABLE sessions (
    session_hash  bytea       PRIMARY KEY,
    person_id     uuid        NOT NULL,
    role          text        NOT NULL,
    display_name  text        NOT NULL,
    sealed_token  bytea       NOT NULL,
    language      text        NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'fr')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_by_person ON sessions (person_id);
