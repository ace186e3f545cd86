-- Who recorded a tip, and under which role: only a call-taker's own answers during a call may
-- forward at once (policy gate-2026.12.1); a tip an administrator entered waits for a supervisor.
ALTER TABLE tip_sources ADD COLUMN recorded_by_role text
    CHECK (recorded_by_role IN ('specialist', 'supervisor', 'admin'));
