-- The unseal audit (who unsealed which tip, when, for what) stays append-only, except that a row of
-- a tip whose key was shredded may be deleted: intake's retention job lets it go once past the
-- access records' limit (services/intake/retention.py). No one may change a row.
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM keys.data_keys WHERE tip_id = OLD.tip_id AND shredded_at IS NOT NULL)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the unseal audit is append-only';
END;
$$;
