-- Every provider request is born pending (issue 16, the public deployment's role locked down): the
-- public `directory` role may insert only a request's own columns (services/common/roles.py), and
-- this refuses, whoever inserts it, a row that says it was already held, decided, applied or
-- received at another time, so a compromised public app cannot slip an approved request in even if
-- a grant were widened by mistake. Deciding is an UPDATE, which that role may never do.
CREATE FUNCTION refuse_provider_request_not_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM 'pending' OR NEW.held_by IS NOT NULL OR NEW.decided_by IS NOT NULL
        OR NEW.decided_at IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.restrictions_applied_at IS NOT NULL
        OR NEW.received_at IS DISTINCT FROM now()
    THEN
        RAISE EXCEPTION 'a provider request is inserted pending, unheld, undecided and received now'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER provider_requests_born_pending BEFORE INSERT ON provider_requests
    FOR EACH ROW EXECUTE FUNCTION refuse_provider_request_not_pending();

-- The public role also writes the audit line saying a request came in, and only that: a role that may
-- not write an audit line's person (the grant is what marks the public one) may add only a
-- provider's `received` for a request, never a decision or a person's act.
CREATE FUNCTION refuse_public_audit_other_than_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT has_column_privilege(TG_RELID, 'person_id', 'INSERT') AND NOT (
        NEW.action = 'received' AND NEW.role = 'provider' AND NEW.person_id IS NULL AND NEW.reason IS NULL
        AND NEW.subject ~ '^request:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        AND NEW.at = now()
    ) THEN
        RAISE EXCEPTION 'the public directory may add only a request''s received line to the audit'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER provider_audit_public_received_only BEFORE INSERT ON provider_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_public_audit_other_than_received();

-- Referral counts the hide and leave requests received within a window (the burst alert).
CREATE INDEX provider_requests_received ON provider_requests (received_at);
