-- A partnership specialist keeps the referral directory: providers' registration and update requests,
-- and the periodic confirmation of their details.
ALTER TABLE staff_tokens DROP CONSTRAINT IF EXISTS staff_tokens_role_check;
ALTER TABLE staff_tokens ADD CONSTRAINT staff_tokens_role_check
    CHECK (role IN ('specialist', 'supervisor', 'admin', 'partnerships'));
ALTER TABLE staff DROP CONSTRAINT IF EXISTS staff_roles_check;
ALTER TABLE staff ADD CONSTRAINT staff_roles_check
    CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['specialist', 'supervisor', 'admin', 'partnerships']::text[]);
