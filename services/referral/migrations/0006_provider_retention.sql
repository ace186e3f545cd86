-- The provider side's audit stays append-only, but referral's retention job may delete an entry
-- once it is older than the shortest limit the policy allows for it (services/common/retention.py,
-- PROVIDER_AUDIT_FLOOR, 2557 days): no one may change an entry, nor delete a younger one.
CREATE FUNCTION refuse_provider_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '2557 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows of %.% are append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER provider_audit_append_only BEFORE UPDATE OR DELETE ON provider_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_provider_audit_change();
CREATE INDEX provider_requests_decided ON provider_requests (decided_at) WHERE status <> 'pending';
