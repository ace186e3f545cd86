-- A package withheld on replay after a broker wipe (its tip was shredded, or its caller recorded a
-- consent after the tip: WITHHELD_ON_REPLAY in services/disclosure/app.py) is marked with when and
-- why, as a code, and its case is flagged so that a supervisor decides what reaches the agency.
-- The audit entry and the metric follow once per package (withheld_noted_at).
ALTER TABLE packages
    ADD COLUMN withheld_on_replay_at timestamptz,
    ADD COLUMN withheld_reason text CHECK (withheld_reason IN ('tip_shredded', 'consent_changed')),
    ADD COLUMN withheld_noted_at timestamptz,
    ADD CONSTRAINT packages_withheld_reason CHECK ((withheld_on_replay_at IS NULL) = (withheld_reason IS NULL));
ALTER TABLE cases ADD COLUMN replay_withheld_at timestamptz;
CREATE INDEX packages_withheld_unnoted ON packages (withheld_on_replay_at)
    WHERE withheld_on_replay_at IS NOT NULL AND withheld_noted_at IS NULL;
