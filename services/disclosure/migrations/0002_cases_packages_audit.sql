-- Disclosure cases, the review queue, packages to agencies and the hash-chained audit.

-- What intake published about each tip that disclosure may need to open at forward time: the
-- identifiers stay sealed here and are opened only for the fields a package may carry.
CREATE TABLE tip_sources (
    source_id     uuid        PRIMARY KEY,   -- the tip id for the tip itself, else the supplement id
    tip_id        uuid        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('tip', 'supplement')),
    channel       text,
    identifiers   jsonb       NOT NULL,
    received_at   timestamptz NOT NULL
);
CREATE INDEX tip_sources_by_tip ON tip_sources (tip_id, received_at);

CREATE TABLE consents (
    tip_id      uuid        PRIMARY KEY,
    version     integer     NOT NULL,
    consent     jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL
);

CREATE TABLE cases (
    tip_id            uuid        PRIMARY KEY,
    case_reference    text        NOT NULL UNIQUE,
    correlation_id    uuid        NOT NULL,
    traceparent       text,
    state             text        NOT NULL CHECK (state IN ('pending_review', 'forwarded', 'declined', 'not_forwarded', 'cancelled')),
    decision          text        NOT NULL,
    basis             text        NOT NULL,
    recipients        jsonb       NOT NULL,
    fields            text[]      NOT NULL,
    approvals_needed  integer     NOT NULL,
    policy_version    text        NOT NULL,
    urgency           text        NOT NULL,
    channel           text        NOT NULL,
    triage_revision   integer     NOT NULL,
    facts             jsonb       NOT NULL,
    indicators        jsonb       NOT NULL,
    minor_involved    boolean     NOT NULL,
    imminent_danger   boolean     NOT NULL,
    legal_reference   text,
    received_at       timestamptz NOT NULL,
    review_due_at     timestamptz,
    reviewed_at       timestamptz,
    forwarded_at      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (state <> 'forwarded' OR basis <> 'none')
);
CREATE INDEX cases_review_queue ON cases (review_due_at) WHERE reviewed_at IS NULL AND state IN ('pending_review', 'forwarded');

CREATE TABLE approvals (
    tip_id          uuid        NOT NULL REFERENCES cases (tip_id),
    staff_token_id  uuid        NOT NULL,
    verdict         text        NOT NULL CHECK (verdict IN ('approve', 'decline', 'review_after_forward')),
    reason          text,
    legal_reference text,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tip_id, staff_token_id, verdict)
);

CREATE TABLE packages (
    package_id          uuid        PRIMARY KEY,
    tip_id              uuid        NOT NULL REFERENCES cases (tip_id),
    agency_id           text        NOT NULL,
    recipient_kind      text        NOT NULL,
    supplementary_to    uuid        REFERENCES packages (package_id),
    source_id           uuid,       -- the supplement a supplementary package carries
    basis               text        NOT NULL CHECK (basis <> 'none'),
    fields              text[]      NOT NULL,
    issued_at           timestamptz NOT NULL DEFAULT now(),
    seconds_from_receipt double precision NOT NULL,
    acknowledged_at     timestamptz,
    UNIQUE (agency_id, source_id)
);
CREATE INDEX packages_by_tip ON packages (tip_id);

-- The audit: append-only (UPDATE, DELETE and TRUNCATE refused) and hash-chained.
CREATE TABLE audit_log (
    seq            bigint      PRIMARY KEY,
    tip_id         uuid        NOT NULL,
    action         text        NOT NULL,
    detail         jsonb       NOT NULL,
    actor          text        NOT NULL,
    at             timestamptz NOT NULL,
    previous_hash  bytea       NOT NULL,
    entry_hash     bytea       NOT NULL
);
CREATE INDEX audit_log_by_tip ON audit_log (tip_id, seq);

CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the disclosure audit is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

-- The walking skeleton's table gives way to cases.
DROP TABLE disclosure_decisions;
