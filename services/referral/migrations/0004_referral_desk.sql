-- The referral desk in the workbench (issue 15): each match keeps how its search went (every
-- widening step), each proposal its reasons, and an acceptance who confirmed it (the provider, or
-- a supervisor) before the provider's confidential address is shown to staff.
ALTER TABLE referral_matches ADD COLUMN reasons jsonb NOT NULL DEFAULT '[]';
ALTER TABLE referrals ADD COLUMN reasons jsonb NOT NULL DEFAULT '[]';
ALTER TABLE referrals ADD COLUMN confirmed_by text CHECK (confirmed_by IN ('provider', 'supervisor'));
ALTER TABLE referrals ADD COLUMN confirmed_at timestamptz;
