-- A supervisor decides each package withheld on replay: issued again (as a new package, reissued_as)
-- or set aside (it stays unsent). Each decision is a verdict of a person, naming its package.
ALTER TABLE packages
    ADD COLUMN withheld_decision text CHECK (withheld_decision IN ('reissued', 'set_aside')),
    ADD COLUMN withheld_decided_at timestamptz,
    ADD COLUMN reissued_as uuid,
    ADD CONSTRAINT packages_withheld_decided CHECK (withheld_decision IS NULL OR withheld_on_replay_at IS NOT NULL),
    ADD CONSTRAINT packages_reissued_as CHECK ((withheld_decision = 'reissued') = (reissued_as IS NOT NULL));
ALTER TABLE approvals
    ADD COLUMN package_id uuid,
    DROP CONSTRAINT approvals_verdict_check,
    ADD CONSTRAINT approvals_verdict_check CHECK (verdict IN (
        'approve', 'decline', 'review_after_forward', 'reopen', 'keep', 'forward_changes', 'confirm_consent',
        'reissue', 'set_aside')),
    ADD CONSTRAINT approvals_package_named CHECK ((verdict IN ('reissue', 'set_aside')) = (package_id IS NOT NULL));
