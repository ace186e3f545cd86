"""Triage's retention, run as triage's role: the sealed narratives it keeps to classify again leave
its tables once their tip's key is shredded, and the case's decisions, plans and staff actions go
once past the casework limit from the shred."""

from __future__ import annotations

from services.common.retention import Kind, Step, after_shred_step, erase_sealed_step

_PLAN = "JOIN triage.response_plans p ON p.plan_id = x.plan_id"

STEPS: tuple[Step, ...] = (
    erase_sealed_step("triage.triage_decisions", "tip_id", "sealed_narrative", "NULL"),
    erase_sealed_step("triage.tip_supplements", "supplement_id", "sealed_narrative", "NULL"),
    # Children before the rows they point to.
    after_shred_step(Kind.CASEWORK, "triage.plan_actions", tip="p.tip_id", via=_PLAN),
    after_shred_step(Kind.CASEWORK, "triage.plan_steps", tip="p.tip_id", via=_PLAN),
    after_shred_step(Kind.CASEWORK, "triage.response_plans"),
    after_shred_step(Kind.CASEWORK, "triage.urgency_overrides"),
    after_shred_step(Kind.CASEWORK, "triage.tip_supplements"),
    after_shred_step(Kind.CASEWORK, "triage.triage_decisions"),
)
