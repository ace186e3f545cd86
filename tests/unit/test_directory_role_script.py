"""The role script `lantern deploy roles` prints for a DBA who runs it by hand: the same statements as
`lantern db setup`, the provider audit's writer list included."""

from __future__ import annotations

from lantern.deploy import role_script


def test_the_printed_script_names_referrals_role_as_the_provider_audits_only_writer() -> None:
    lines = role_script("lantern").splitlines()
    assert 'DELETE FROM "referral"."provider_audit_writers";' in lines
    assert (
        'INSERT INTO "referral"."provider_audit_writers" (role_name) VALUES (\'lantern_referral\');' in lines
    )
    # Referral only reads its writer list: it may not name another role in it.
    assert 'GRANT SELECT ON "referral"."provider_audit_writers" TO "lantern_referral";' in lines


def test_the_printed_script_gives_the_public_directory_no_right_on_the_provider_audit() -> None:
    granted = [line for line in role_script("lantern").splitlines() if line.startswith("GRANT")]
    directory = [line for line in granted if line.endswith('TO "lantern_directory";')]
    assert directory and not any("provider_audit" in line for line in directory)
    assert any("provider_requests" in line and line.startswith("GRANT INSERT (") for line in directory)
