"""What a package carries: exactly the fields the gate permits, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas.disclosure import PackageContent, PackageField, PackagePerson
from schemas.tip import Answer, Contact, TipFacts
from schemas.triage import IndicatorFinding


@dataclass(frozen=True, slots=True)
class Opened:
    """Identifying data opened for this package; only what the permitted fields asked for."""

    narratives: list[str] = field(default_factory=list)
    named_persons: list[PackagePerson] = field(default_factory=list)
    contact: Contact | None = None


def identifying_fields_needed(fields: frozenset[PackageField]) -> list[str]:
    """Which sealed fields to open (for the unseal audit) for a package with ``fields``."""
    wanted = {
        PackageField.NARRATIVE: "narrative",
        PackageField.NAMED_PERSONS: "named_persons",
        PackageField.CALLER_CONTACT: "contact",
    }
    return sorted(name for permitted, name in wanted.items() if permitted in fields)


def content(
    fields: frozenset[PackageField],
    facts: TipFacts,
    indicators: list[IndicatorFinding],
    minor_involved: bool,
    imminent_danger: bool,
    received_at: datetime,
    opened: Opened,
) -> PackageContent:
    """The package's content: every field not permitted stays absent."""
    situation = PackageField.SITUATION in fields
    return PackageContent(
        trafficking_types=facts.assessment.trafficking_types if situation else None,
        indicators=indicators if situation else None,
        minor_involved=_answer(minor_involved) if situation else None,
        imminent_danger=_answer(imminent_danger) if situation else None,
        victim_profile=facts.victim_profile if situation else None,
        needs=facts.needs if situation else None,
        location=facts.location if PackageField.LOCATION in fields else None,
        received_at=received_at if PackageField.WHEN in fields else None,
        narrative=opened.narratives if PackageField.NARRATIVE in fields else None,
        named_persons=opened.named_persons if PackageField.NAMED_PERSONS in fields else None,
        reporter_role=facts.reporter_role if PackageField.REPORTER_ROLE in fields else None,
        caller_contact=opened.contact if PackageField.CALLER_CONTACT in fields else None,
    )


def _answer(found: bool) -> Answer:
    return Answer.YES if found else Answer.UNKNOWN
