-- A tip's triage is revised by supplements and by supervisors' overrides; plans follow its urgency.
-- What staff do is kept in append-only audit tables.

ALTER TABLE triage_decisions
    ADD COLUMN revision          integer NOT NULL DEFAULT 1,
    ADD COLUMN reference         text,
    ADD COLUMN correlation_id    uuid,
    ADD COLUMN traceparent       text,
    -- The facts as received, and the narrative still sealed under the tip's key: with the
    -- supplements they are what a re-triage classifies again. Shredding the key erases both.
    ADD COLUMN received_facts    jsonb,
    ADD COLUMN sealed_narrative  text,
    -- What the classifier alone last concluded, so that new information raises urgency only when
    -- it brings a ground that was not there before, and never undoes an override by itself.
    ADD COLUMN auto_urgency      text,
    ADD COLUMN auto_reason_codes text[] NOT NULL DEFAULT '{}',
    ADD COLUMN override_id       uuid,
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now();

CREATE TABLE tip_supplements (
    supplement_id    uuid        PRIMARY KEY,
    tip_id           uuid        NOT NULL,
    facts_update     jsonb       NOT NULL,
    sealed_narrative text,
    received_at      timestamptz NOT NULL
);
CREATE INDEX tip_supplements_by_tip ON tip_supplements (tip_id, received_at);

CREATE TABLE urgency_overrides (
    override_id      uuid        PRIMARY KEY,
    tip_id           uuid        NOT NULL REFERENCES triage_decisions (tip_id),
    revision         integer     NOT NULL,
    from_urgency     text        NOT NULL,
    to_urgency       text        NOT NULL,
    reason           text        NOT NULL,
    sealed_note      text,
    staff_token_id   uuid        NOT NULL,
    staff_role       text        NOT NULL,
    overridden_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE response_plans DROP CONSTRAINT response_plans_tip_id_key;
ALTER TABLE response_plans DROP CONSTRAINT response_plans_status_check;
ALTER TABLE response_plans
    ADD CONSTRAINT response_plans_status_check CHECK (status IN ('open', 'completed', 'superseded')),
    ADD COLUMN acknowledged_at       timestamptz,
    ADD COLUMN acknowledged_by       uuid,
    ADD COLUMN closed_at             timestamptz;
-- At most one open plan per tip: a new urgency supersedes the old plan in the same transaction.
CREATE UNIQUE INDEX response_plans_one_open_per_tip ON response_plans (tip_id) WHERE status = 'open';

ALTER TABLE plan_steps DROP CONSTRAINT plan_steps_status_check;
ALTER TABLE plan_steps
    ADD CONSTRAINT plan_steps_status_check CHECK (status IN ('open', 'done', 'cancelled')),
    ADD COLUMN outcome text;

CREATE TABLE plan_actions (
    action_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id          uuid        NOT NULL REFERENCES response_plans (plan_id),
    step             text,
    action           text        NOT NULL CHECK (action IN ('acknowledged', 'step_completed')),
    outcome          text,
    staff_token_id   uuid        NOT NULL,
    staff_role       text        NOT NULL,
    acted_at         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER urgency_overrides_append_only BEFORE UPDATE OR DELETE ON urgency_overrides
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER plan_actions_append_only BEFORE UPDATE OR DELETE ON plan_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
