"""Referral's retention, run as referral's role: a case's consent, match, referrals and their history
go once past the casework limit from the shred of its tip's key. The directory of providers is not
about a caller and is not governed here."""

from __future__ import annotations

from services.common.retention import Kind, Step, after_shred_step

STEPS: tuple[Step, ...] = (
    # Children before the rows they point to.
    after_shred_step(
        Kind.CASEWORK,
        "referral.referral_history",
        tip="r.tip_id",
        via="JOIN referral.referrals r ON r.referral_id = x.referral_id",
    ),
    after_shred_step(Kind.CASEWORK, "referral.referrals"),
    after_shred_step(Kind.CASEWORK, "referral.referral_matches"),
    after_shred_step(Kind.CASEWORK, "referral.consents"),
)
