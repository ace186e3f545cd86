-- The provider side's audit is written only by referral's role and the owner (issue 16, review of the
-- public role's lockdown). Migration 0008 let the public `directory` role add a request's `received`
-- line itself, restricted by a trigger keyed on a grant: a wider grant turned the restriction off,
-- and the role could add `received` lines for any UUID. Now the database writes that line itself,
-- for the request actually inserted, and the audit refuses a line from any other role, whatever
-- it was granted.
DROP TRIGGER provider_audit_public_received_only ON provider_audit;
DROP FUNCTION refuse_public_audit_other_than_received();

-- Runs as the owner (SECURITY DEFINER): the role inserting the request, the public one included,
-- holds no right on the audit. Nobody calls it but the trigger.
CREATE FUNCTION audit_provider_request_received() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO referral.provider_audit (subject, action, role)
        VALUES ('request:' || NEW.request_id::text, 'received', 'provider');
    RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION audit_provider_request_received() FROM PUBLIC;
CREATE TRIGGER provider_requests_received_audited AFTER INSERT ON provider_requests
    FOR EACH ROW EXECUTE FUNCTION audit_provider_request_received();

-- The roles besides the owner that may write the audit: referral's, named here by the grant step
-- (services/common/roles.py), which knows the roles' names; no service's role may change this table.
CREATE TABLE provider_audit_writers (
    role_name   name        PRIMARY KEY
);

-- Whether ``who`` may write the audit: the table's owner (or a member of it, a superuser included)
-- or a role listed above. SECURITY DEFINER so that the check reads the list whatever the inserting
-- role may read; it answers only yes or no about a role name, so any role may call it.
CREATE FUNCTION writes_provider_audit(who name) RETURNS boolean LANGUAGE sql STABLE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_has_role(who, c.relowner, 'MEMBER')
        OR EXISTS (SELECT 1 FROM referral.provider_audit_writers w WHERE w.role_name = who)
    FROM pg_class c WHERE c.oid = 'referral.provider_audit'::regclass
$$;

-- By the inserting role's identity, not its grants: within the trigger above `current_user` is the
-- owner; anyone else inserting directly is checked as who they are.
CREATE FUNCTION refuse_provider_audit_from_others() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT referral.writes_provider_audit(current_user) THEN
        RAISE EXCEPTION 'only referral''s role and the owner write the provider audit'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER provider_audit_writers_only BEFORE INSERT ON provider_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_provider_audit_from_others();
