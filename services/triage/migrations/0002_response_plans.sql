-- Response plans and their durable clocks. A step's flags are set once, in the transaction that
-- stages their event, so at-risk and breach are each published exactly once per step.
CREATE TABLE response_plans (
    plan_id           uuid        PRIMARY KEY,
    tip_id            uuid        NOT NULL UNIQUE REFERENCES triage_decisions (tip_id),
    urgency           text        NOT NULL,
    template_version  text        NOT NULL,
    correlation_id    uuid        NOT NULL,
    status            text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
    breaches          integer     NOT NULL DEFAULT 0,
    started_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_steps (
    plan_id       uuid        NOT NULL REFERENCES response_plans (plan_id),
    step          text        NOT NULL,
    position      integer     NOT NULL,
    at_risk_at    timestamptz NOT NULL,
    deadline      timestamptz NOT NULL,
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    flagged_at_risk_at  timestamptz,
    flagged_breached_at timestamptz,
    completed_at  timestamptz,
    PRIMARY KEY (plan_id, step)
);

-- The clock looks only at open steps whose next flag is due.
CREATE INDEX plan_steps_next_at_risk ON plan_steps (at_risk_at) WHERE status = 'open' AND flagged_at_risk_at IS NULL;
CREATE INDEX plan_steps_next_breach ON plan_steps (deadline) WHERE status = 'open' AND flagged_breached_at IS NULL;
