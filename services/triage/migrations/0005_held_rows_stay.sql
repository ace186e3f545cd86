-- A held tip's urgency overrides and plan actions stay, shredded or not (retention.released).
CREATE OR REPLACE FUNCTION refuse_casework_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tip uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'plan_actions' THEN
            SELECT p.tip_id INTO tip FROM triage.response_plans p WHERE p.plan_id = OLD.plan_id;
        ELSE
            tip := OLD.tip_id;
        END IF;
        IF retention.released(tip) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
