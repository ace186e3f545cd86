-- A phone or chat tip's call as the specialist recorded it: when it started and ended, and what
-- the caller said about reaching them again and how they heard of the hotline. Nothing here names
-- anyone (seed 003 lists how the caller heard of the hotline among the non-identifying data).
CREATE TABLE calls (
    tip_id                 uuid        PRIMARY KEY REFERENCES tips (tip_id),
    started_at             timestamptz NOT NULL,
    ended_at               timestamptz NOT NULL CHECK (ended_at >= started_at),
    interpreter_language   text,
    safe_to_call_back      boolean,
    safe_to_leave_message  boolean,
    heard_via              text        NOT NULL,
    recorded_by            uuid
);

-- Follow-ups a staff member attached for a returning caller (found by reference and follow-up
-- code): who attached it, on which channel. A reporter's own follow-up on the web has no row here.
CREATE TABLE supplement_recorders (
    supplement_id  uuid        PRIMARY KEY REFERENCES supplements (supplement_id),
    person_id      uuid        NOT NULL,
    role           text        NOT NULL,
    channel        text        NOT NULL CHECK (channel IN ('phone', 'chat', 'email')),
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
