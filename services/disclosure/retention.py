"""Disclosure's retention, run as disclosure's role: the sealed identifiers of a shredded tip leave
``tip_sources``, a case's package records go once its last package is past the packages' limit, and
the case's working records once its key was shredded (the case itself, its approvals and its consent
records only after its package records: they are what a package's record points to, and what a
reissue decides on). The audit is not here: only the
owner prunes it (``commands.prune_audit``)."""

from __future__ import annotations

from services.common.retention import (
    ERASED_IDENTIFIERS,
    Kind,
    Step,
    after_shred_step,
    erase_sealed_step,
    sql_step,
)

# The tip lock the consume path holds while it reads a case's sources and consents and changes the
# case (``repository.LOCK_CASE_TIP``): a case's rows go under it. Packages go without it: a case saved
# after they went does not write them back.
CASE_LOCK = "disclosure.case/"

# A case's packages go together: a supplementary package names the one it follows.
_LAST_ISSUED = "SELECT tip_id, max(issued_at) AS issued FROM disclosure.packages GROUP BY tip_id"

_NO_PACKAGES = " AND NOT EXISTS (SELECT 1 FROM disclosure.packages p WHERE p.tip_id = x.tip_id)"

STEPS: tuple[Step, ...] = (
    erase_sealed_step(
        "disclosure.tip_sources", "source_id", "identifiers", ERASED_IDENTIFIERS, tip_lock=CASE_LOCK
    ),
    sql_step(
        Kind.PACKAGES,
        "disclosure.packages",
        f"SELECT last.issued AS since, retention.is_held(p.tip_id) AS held FROM disclosure.packages p"
        f" JOIN ({_LAST_ISSUED}) AS last USING (tip_id)",
        f"DELETE FROM disclosure.packages WHERE tip_id = ANY(ARRAY(SELECT tip_id FROM ({_LAST_ISSUED}) AS last"
        " WHERE issued < $1 AND NOT retention.is_held(tip_id) LIMIT $2))",
    ),
    after_shred_step(Kind.CASEWORK, "disclosure.approvals", unless=_NO_PACKAGES, tip_lock=CASE_LOCK),
    after_shred_step(Kind.CASEWORK, "disclosure.cases", unless=_NO_PACKAGES, tip_lock=CASE_LOCK),
    # A reissue decides on the consent history: it goes with its case, never before.
    after_shred_step(Kind.CASEWORK, "disclosure.consent_records", unless=_NO_PACKAGES, tip_lock=CASE_LOCK),
    after_shred_step(Kind.CASEWORK, "disclosure.tip_sources", tip_lock=CASE_LOCK),
)

AUDIT_SOURCE = (
    "SELECT at AS since, coalesce(seq >= (SELECT min(h.seq) FROM disclosure.audit_log h"
    " WHERE retention.is_held(h.tip_id)), false) AS held FROM disclosure.audit_log"
)
"""The audit entries as the owner's report counts them (``commands.prune_audit`` prunes them): only a
prefix of the chain goes, so a held case's entries, and every entry after its first, stay while the
hold stands."""
