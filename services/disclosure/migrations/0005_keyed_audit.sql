-- The audit's links become HMAC-SHA256 under a key held outside the database (issue 14). Entries
-- written before keep their plain SHA-256 links and say so: the verifier accepts them only before
-- the first keyed entry, whose link covers theirs. Adding the column with a constant default
-- rewrites no row (and fires no trigger); dropping the default makes every append name its link.
ALTER TABLE audit_log ADD COLUMN link text NOT NULL DEFAULT 'sha256'
    CONSTRAINT audit_log_link_known CHECK (link IN ('sha256', 'hmac-sha256'));
ALTER TABLE audit_log ALTER COLUMN link DROP DEFAULT;
