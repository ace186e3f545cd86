-- The provider side of the directory (seed 003, issue 16 item 3).
--
-- A provider's request to be listed (registration) or to change its listing (update), as it came in
-- from the public form: pending until a partnership specialist takes it and approves or rejects it.
CREATE TABLE provider_requests (
    request_id      uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('registration', 'update')),
    organization_id text,       -- an update names the listing it changes
    details         jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    language        text        NOT NULL CHECK (language IN ('en', 'fr')),
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    held_by         uuid,       -- the partnership specialist handling it; only they decide
    decided_by      uuid,
    decided_at      timestamptz,
    reason          text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'update') = (organization_id IS NOT NULL)),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX provider_requests_pending ON provider_requests (received_at) WHERE status = 'pending';

-- Who did what to a request or a listing's confirmation, and when: the audit of the provider side.
CREATE TABLE provider_audit (
    entry_id        bigserial   PRIMARY KEY,
    subject         text        NOT NULL,   -- 'request:<uuid>' or 'organization:<id>'
    action          text        NOT NULL,
    person_id       uuid,                   -- null for the service's own clock
    role            text        NOT NULL,
    reason          text,
    at              timestamptz NOT NULL DEFAULT now()
);

-- "Please confirm your details": one open request per organization whose details are older than the
-- configured age. Past its grace period without an answer the organization lapses: out of the
-- public directory and not matchable, never deleted, until a partnership specialist confirms it.
CREATE TABLE directory_reconfirmations (
    organization_id text        PRIMARY KEY,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL,
    lapsed_at       timestamptz
);
