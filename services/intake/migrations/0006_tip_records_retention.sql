-- A shredded tip's remaining rows go once past the casework limit from the shred: the call, who held
-- it and the history of who took, assigned and handed it over, its follow-up code, idempotency key,
-- follow-ups and, last, the tip row itself (services/intake/retention.py). The records of who opened
-- its data stay longer (the access limit), so they no longer point at the tip row by a foreign key:
-- they keep its id, which is all they ever showed of it.
ALTER TABLE openings DROP CONSTRAINT openings_tip_id_fkey;
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND retention.shredded_at(OLD.tip_id) IS NOT NULL THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER assignment_history_append_only ON assignment_history;
CREATE TRIGGER assignment_history_append_only BEFORE UPDATE OR DELETE ON assignment_history
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
