-- Openings (who opened a tip's identifying data, and why) stay append-only, except that the rows of
-- a tip whose key was shredded may be deleted: intake's retention job lets them go once past the
-- access records' limit (services/intake/retention.py). No one may change a row.
CREATE FUNCTION refuse_opening_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND retention.shredded_at(OLD.tip_id) IS NOT NULL THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER openings_append_only ON openings;
CREATE TRIGGER openings_append_only BEFORE UPDATE OR DELETE ON openings
    FOR EACH ROW EXECUTE FUNCTION refuse_opening_change();
