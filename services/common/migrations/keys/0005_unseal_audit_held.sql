-- A held tip's unseal audit stays, shredded or not (retention.released).
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND retention.released(OLD.tip_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the unseal audit is append-only';
END;
$$;
