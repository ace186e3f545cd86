-- A referral's history stays append-only, except that the rows of a tip whose key was shredded may
-- be deleted: referral's retention job lets them go with the referral (services/referral/retention.py).
-- No one may change a row.
CREATE FUNCTION refuse_referral_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND retention.shredded_at(
        (SELECT r.tip_id FROM referral.referrals r WHERE r.referral_id = OLD.referral_id)) IS NOT NULL
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'referral history is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER referral_history_append_only ON referral_history;
CREATE TRIGGER referral_history_append_only BEFORE UPDATE OR DELETE ON referral_history
    FOR EACH ROW EXECUTE FUNCTION refuse_referral_history_change();
