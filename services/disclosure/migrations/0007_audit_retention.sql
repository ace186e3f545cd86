-- The audit is pruned only by its owner's retention job, and only behind a checkpoint: an entry,
-- appended to the chain before the prune in the same transaction, that names the last entry pruned
-- and its link, so that the chain still verifies from there (`lantern audit verify`). The service's
-- role holds no DELETE right at all; this lets the owner delete an entry only when a later
-- checkpoint covers it. UPDATE and TRUNCATE stay refused for everyone.
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
        AND EXISTS (
            SELECT 1 FROM disclosure.audit_log checkpoint
            WHERE checkpoint.action = 'audit_pruned' AND checkpoint.seq > OLD.seq
              AND (checkpoint.detail->>'through_seq')::bigint >= OLD.seq)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the disclosure audit is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE INDEX audit_log_checkpoints ON audit_log (seq) WHERE action = 'audit_pruned';
CREATE INDEX audit_log_at ON audit_log (at);
