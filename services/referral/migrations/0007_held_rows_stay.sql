-- A held tip's referral history stays, shredded or not (retention.released).
CREATE OR REPLACE FUNCTION refuse_referral_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND retention.released(
        (SELECT r.tip_id FROM referral.referrals r WHERE r.referral_id = OLD.referral_id))
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'referral history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
