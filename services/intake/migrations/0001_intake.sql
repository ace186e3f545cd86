-- Tips as intake holds them. Identifying data (narrative, contact, named persons) is stored only as
-- ciphertext under the tip's data key (schema keys); nothing here holds a device or network address.
CREATE TABLE tips (
    tip_id              uuid        PRIMARY KEY,
    reference           text        NOT NULL UNIQUE,
    channel             text        NOT NULL,
    language            text        NOT NULL,
    facts               jsonb       NOT NULL,
    identifiers         jsonb       NOT NULL,
    submitted_by_role   text        NOT NULL CHECK (submitted_by_role IN ('reporter', 'specialist', 'supervisor', 'admin')),
    submitted_by_token  uuid,
    correlation_id      uuid        NOT NULL,
    received_at         timestamptz NOT NULL
);

CREATE TABLE consents (
    tip_id             uuid        NOT NULL REFERENCES tips (tip_id),
    version            integer     NOT NULL CHECK (version >= 1),
    law_enforcement    boolean     NOT NULL,
    share_identity     boolean     NOT NULL,
    service_referral   boolean     NOT NULL,
    statistics         boolean     NOT NULL,
    interpreter_used   boolean     NOT NULL,
    channel            text        NOT NULL,
    recorded_by_role   text        NOT NULL CHECK (recorded_by_role IN ('reporter', 'specialist', 'supervisor', 'admin')),
    recorded_by_token  uuid,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tip_id, version)
);

-- One live follow-up code per tip, as a salted scrypt hash; a successful follow-up replaces it.
CREATE TABLE follow_up_codes (
    tip_id     uuid        PRIMARY KEY REFERENCES tips (tip_id),
    salt       bytea       NOT NULL,
    code_hash  bytea       NOT NULL,
    issued_at  timestamptz NOT NULL DEFAULT now()
);

-- Failed follow-up attempts per reference, whether or not the reference exists, so that a lock
-- tells nobody that a reference is real.
CREATE TABLE follow_up_attempts (
    reference_key    bytea       PRIMARY KEY,
    failures         integer     NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    last_failure_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE supplements (
    supplement_id  uuid        PRIMARY KEY,
    tip_id         uuid        NOT NULL REFERENCES tips (tip_id),
    update         jsonb       NOT NULL,
    identifiers    jsonb       NOT NULL,
    received_at    timestamptz NOT NULL
);

-- A retried submission with the same Idempotency-Key gets the same tip. The follow-up code is kept
-- sealed under the tip's key for the retry window only.
CREATE TABLE idempotency_keys (
    key_hash             bytea       PRIMARY KEY,
    fingerprint          bytea       NOT NULL,
    tip_id               uuid        NOT NULL REFERENCES tips (tip_id),
    follow_up_sealed     text,
    created_at           timestamptz NOT NULL DEFAULT now()
);
