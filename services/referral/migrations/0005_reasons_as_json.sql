-- Reasons were written as a JSON text inside jsonb (a string scalar), so SQL could not read into
-- them and every reader had to decode twice; unwrap what earlier versions stored.
UPDATE referral_matches SET reasons = (reasons #>> '{}')::jsonb WHERE jsonb_typeof(reasons) = 'string';
UPDATE referrals SET reasons = (reasons #>> '{}')::jsonb WHERE jsonb_typeof(reasons) = 'string';
