-- Urgency overrides and plan actions (who changed or acted on a case) stay append-only, except that
-- the rows of a tip whose key was shredded may be deleted: triage's retention job lets them go with
-- the rest of the case (services/triage/retention.py). No one may change a row.
CREATE FUNCTION refuse_casework_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tip uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'plan_actions' THEN
            SELECT p.tip_id INTO tip FROM triage.response_plans p WHERE p.plan_id = OLD.plan_id;
        ELSE
            tip := OLD.tip_id;
        END IF;
        IF retention.shredded_at(tip) IS NOT NULL THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER urgency_overrides_append_only ON urgency_overrides;
DROP TRIGGER plan_actions_append_only ON plan_actions;
CREATE TRIGGER urgency_overrides_append_only BEFORE UPDATE OR DELETE ON urgency_overrides
    FOR EACH ROW EXECUTE FUNCTION refuse_casework_change();
CREATE TRIGGER plan_actions_append_only BEFORE UPDATE OR DELETE ON plan_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_casework_change();
