-- A package's outbox row keeps its sealed bytes (ciphertext only its agency opens) until the agency
-- acknowledges it, so that a broker that lost it (Tansu keeps no disk) receives it again; the
-- acknowledgement empties the row and counts it sent: the agency has it.
CREATE FUNCTION forget_acknowledged_package() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE outbox SET payload = ''::bytea, sent_at = coalesce(sent_at, now())
    WHERE event_id = NEW.package_id AND scrub_after_send;
    RETURN NULL;
END;
$$;

CREATE TRIGGER package_acknowledged AFTER INSERT OR UPDATE OF acknowledged_at ON packages
    FOR EACH ROW WHEN (NEW.acknowledged_at IS NOT NULL) EXECUTE FUNCTION forget_acknowledged_package();

-- Packages acknowledged before this migration were emptied when sent; nothing to do for them.
