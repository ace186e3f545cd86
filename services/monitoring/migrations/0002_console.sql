-- The console's read model: plans and their clocks, the review queue, and each tip's journey.
ALTER TABLE tips ADD COLUMN reference text;
CREATE INDEX tips_by_reference ON tips (reference);

CREATE TABLE plans (
    plan_id      uuid        PRIMARY KEY,
    tip_id       uuid        NOT NULL,
    urgency      text        NOT NULL,
    status       text        NOT NULL DEFAULT 'open',
    acknowledged boolean     NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL
);

CREATE TABLE plan_steps (
    plan_id   uuid        NOT NULL REFERENCES plans (plan_id),
    step      text        NOT NULL,
    deadline  timestamptz NOT NULL,
    status    text        NOT NULL DEFAULT 'open',
    at_risk   boolean     NOT NULL DEFAULT false,
    breached  boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (plan_id, step)
);

CREATE TABLE reviews (
    tip_id        uuid        PRIMARY KEY,
    state         text        NOT NULL,
    basis         text        NOT NULL,
    review_due_at timestamptz,
    reviewed      boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journey (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tip_id      uuid        NOT NULL,
    topic       text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    detail      text
);
CREATE INDEX journey_by_tip ON journey (tip_id, occurred_at);
