-- Operations monitoring's own read model, built from the events of every service. Only facts that
-- identify nobody: times, channel, language, province, trafficking types, urgency, consent to
-- statistics. Never a narrative, a name, a contact or a city.
CREATE TABLE tips (
    tip_id              uuid        PRIMARY KEY,
    received_at         timestamptz NOT NULL,
    channel             text        NOT NULL,
    language            text        NOT NULL,
    province            text,
    outside_canada      boolean     NOT NULL,
    trafficking_types   text[]      NOT NULL,
    statistics_consent  boolean     NOT NULL,
    consent_version     integer     NOT NULL DEFAULT 1,
    urgency             text,
    triage_revision     integer     NOT NULL DEFAULT 0,
    triaged_at          timestamptz
);
CREATE INDEX tips_by_month ON tips (received_at);
