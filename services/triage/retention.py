"""Triage's retention, run as triage's role: the sealed narratives it keeps to classify again leave
its tables once their tip's key is shredded."""

from __future__ import annotations

from services.common.retention import Step, erase_sealed_step

STEPS: tuple[Step, ...] = (
    erase_sealed_step("triage.triage_decisions", "tip_id", "sealed_narrative", "NULL"),
    erase_sealed_step("triage.tip_supplements", "supplement_id", "sealed_narrative", "NULL"),
)
