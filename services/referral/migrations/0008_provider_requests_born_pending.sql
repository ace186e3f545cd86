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

-- Referral counts the hide and leave requests received within a window (the burst alert).
CREATE INDEX provider_requests_received ON provider_requests (received_at);
