-- Migration 0009 left the audit's writer list empty until the grant step names referral's role: on a
-- database migrated before that step runs (pods rolled while the setup Job waits, or the grant step
-- run later by a DBA), referral could not write its own audit. And the schema's default privileges
-- gave referral's role write rights on the new list, so it could name any role a writer.

-- Whoever wrote the audit until 0009 by a table-wide grant (referral's role) still writes it. Not
-- PUBLIC, not a role granted only some columns (the public role's received line of 0008), and not the
-- owner, who writes it anyway. The grant step later makes the list exactly referral's role.
INSERT INTO provider_audit_writers (role_name)
SELECT DISTINCT pg_get_userbyid(a.grantee)
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = 'provider_audit'::regclass
  AND a.privilege_type = 'INSERT' AND a.grantee <> 0 AND a.grantee <> c.relowner
ON CONFLICT (role_name) DO NOTHING;

-- Only the owner changes the list: every other grantee keeps at most the right to read it.
DO $$
DECLARE
    grantee oid;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'provider_audit_writers'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format(
            'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON provider_audit_writers FROM %s',
            CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END
        );
    END LOOP;
END $$;
