CREATE TABLE triage_decisions (
    tip_id           uuid        PRIMARY KEY,
    urgency          text        NOT NULL CHECK (urgency IN ('urgent', 'non_urgent', 'insufficient_information')),
    reasons          jsonb       NOT NULL,
    minor_involved   boolean     NOT NULL,
    imminent_danger  boolean     NOT NULL,
    ruleset_version  text        NOT NULL,
    source_event_id  uuid        NOT NULL,
    received_at      timestamptz NOT NULL,
    decided_at       timestamptz NOT NULL DEFAULT now()
);
