-- A follow-up a supervisor sends on while an agency's first package waits after a broker wipe is owed
-- to that agency (owed_follow_ups, on the withheld package): its re-issue carries it, a setting aside
-- audits that it never went, an acknowledgement after all queues it for a supervisor. A follow-up a
-- supervisor kept back (kept_supplements) is never carried by a first package issued again.
ALTER TABLE packages ADD COLUMN owed_follow_ups uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN kept_supplements uuid[] NOT NULL DEFAULT '{}';
