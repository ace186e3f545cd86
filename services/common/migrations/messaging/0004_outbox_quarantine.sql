-- A row the relay cannot publish is quarantined instead of blocking every row behind it: it keeps
-- its payload and waits for a person (`lantern outbox release` or `discard`). Later rows of the same
-- tip (same key) are held behind it, so a tip's events never leave out of order; other tips go on.
-- `attempts` counts failed sends (a row that failed once is sent alone from then on);
-- `last_error` and `quarantine_reason` are codes (an exception's class name), never its message.
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error text;
ALTER TABLE outbox ADD COLUMN quarantined_at timestamptz;
ALTER TABLE outbox ADD COLUMN quarantine_reason text;
ALTER TABLE outbox ADD COLUMN discarded_at timestamptz;
-- Who last released or discarded the row: a role and a token id, never a name.
ALTER TABLE outbox ADD COLUMN handled_by text;

-- Unsent rows waiting for the relay: neither sent, quarantined nor discarded.
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND quarantined_at IS NULL;
CREATE INDEX outbox_quarantined ON outbox (key) WHERE quarantined_at IS NOT NULL AND discarded_at IS NULL;
