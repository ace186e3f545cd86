"""Classify every tip of the labelled corpus and compare with its labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.tip import TipFacts, TipSubmission
from services.triage.domain.classification import Classification, classify

CORPUS = Path(__file__).parent / "corpus.jsonl"


@dataclass(frozen=True)
class Case:
    tip: dict[str, Any]
    result: Classification

    @property
    def labels(self) -> dict[str, Any]:
        return dict(self.tip["labels"])

    @property
    def urgency_agrees(self) -> bool:
        return bool(self.result.urgency.value == self.labels["urgency"])

    @property
    def detected(self) -> set[str]:
        return {finding.code for finding in self.result.indicators}


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def facts_of(tip: dict[str, Any]) -> TipFacts:
    submission = TipSubmission.model_validate(
        {
            "language": tip["language"],
            "reporter_role": tip.get("reporter_role", "other"),
            "narrative": tip["narrative"],
            "location": tip["location"],
            "assessment": {
                **tip.get("assessment", {}),
                "trafficking_types": tip.get("trafficking_types", []),
            },
        }
    )
    return TipFacts.of(submission)


def evaluate() -> list[Case]:
    return [Case(tip, classify(facts_of(tip), tip["narrative"])) for tip in load_corpus()]


if __name__ == "__main__":
    cases = evaluate()
    for case in cases:
        expected = set(case.labels["indicators"])
        if not case.urgency_agrees or case.detected != expected:
            print(case.tip["id"], case.labels["urgency"], "->", case.result.urgency.value,
                  "missing", sorted(expected - case.detected), "extra", sorted(case.detected - expected),
                  "missing-details", [m.value for m in case.result.missing])  # fmt: skip
    agreed = sum(case.urgency_agrees for case in cases)
    print(f"urgency agreement {agreed}/{len(cases)} = {agreed / len(cases):.1%}")
