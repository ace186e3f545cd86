-- Tips as intake holds them. The narrative and contact columns are the identifying part of a tip:
-- they never leave this schema in plain text.
CREATE TABLE tips (
    tip_id          uuid        PRIMARY KEY,
    reference       text        NOT NULL UNIQUE,
    channel         text        NOT NULL,
    language        text        NOT NULL,
    facts           jsonb       NOT NULL,
    narrative       text        NOT NULL,
    contact         jsonb,
    correlation_id  uuid        NOT NULL,
    received_at     timestamptz NOT NULL
);
