"""Tips and events for tests: realistic, invented, and easy to vary."""

from __future__ import annotations

import os
import uuid
from typing import Any, Literal

from schemas.envelope import utc_now
from schemas.intake import ConsentRecordedV1, FactsUpdate, TipReceivedV1, TipSupplementedV1
from schemas.tip import Consent, TipFacts, TipSubmission
from schemas.triage import Reason, TipTriagedV1, Urgency
from services.common.ids import readable_reference
from services.common.sealing import DataKey
from services.intake.domain.identifiers import seal_identifiers

NARRATIVE = "Marie-Claude Tremblay says her cousin works at a farm near Joliette and cannot leave."
CONTACT = {"name": "Jean-Philippe Gagnon", "phone": "+1 514 555 0147", "email": "jp.gagnon@example.org"}
NAMED_PERSON = "Gaétan Bouchard-Lévesque"
IDENTIFYING_VALUES = (NARRATIVE, "Marie-Claude Tremblay", NAMED_PERSON, *CONTACT.values())
SPECIALIST = uuid.UUID("5f1e0c2a-7d3b-4c8e-9a61-2b4d6f8e0a13")
"""The specialist who records the staff channels' tips in these tests."""


def tip_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "language": "fr",
        "reporter_role": "family_friend",
        "anonymous": False,
        "narrative": NARRATIVE,
        "location": {"country": "CA", "province": "QC", "city": "Joliette"},
        "assessment": {
            "minor_involved": "no",
            "imminent_danger": "no",
            "victim_age": None,
            "trafficking_types": ["labour"],
        },
        "consent": {
            "law_enforcement": False,
            "share_identity": False,
            "service_referral": True,
            "statistics": True,
        },
        "contact": dict(CONTACT),
        "named_persons": [{"name": NAMED_PERSON, "relation": "suspect"}],
        "victim_profile": {
            "age": 29,
            "gender_identity": "woman",
            "languages": ["fr"],
            "status_in_canada": "temporary_worker",
        },
        "needs": ["legal", "emergency_shelter"],
    }
    body.update(overrides)
    return body


def tip_received(
    key: DataKey | None = None,
    recorded_by: uuid.UUID | str | None = "staff channels",
    recorded_as: Literal["specialist", "supervisor", "admin"] = "specialist",
    **overrides: Any,
) -> TipReceivedV1:
    """A tip.received event sealed with ``key``; by default with a key no keystore holds, so that
    consumers see the tip as erased. A tip of a staff channel is recorded by ``SPECIALIST``, in the
    role ``recorded_as``.
    """
    submission = TipSubmission.model_validate(tip_body(**overrides))
    if isinstance(recorded_by, str):
        recorded_by = None if submission.channel.value == "web" else SPECIALIST
    tip_id = key.tip_id if key else uuid.uuid4()
    throwaway = key or DataKey(tip_id, os.urandom(32))
    return TipReceivedV1(
        tip_id=tip_id,
        correlation_id=uuid.uuid4(),
        producer="intake",
        reference=readable_reference("LT"),
        received_at=utc_now(),
        facts=TipFacts.of(submission),
        identifiers=seal_identifiers(
            throwaway, submission.narrative, submission.contact, submission.named_persons
        ),
        recorded_by=recorded_by,
        recorded_by_role=recorded_as if recorded_by is not None else None,
    )


def tip_supplemented(
    tip: TipReceivedV1, key: DataKey | None = None, narrative: str | None = None, **update: Any
) -> TipSupplementedV1:
    """The reporter's follow-up on ``tip``: facts in ``update``, a narrative sealed with ``key``."""
    supplement_id = uuid.uuid4()
    return TipSupplementedV1(
        tip_id=tip.tip_id,
        correlation_id=tip.correlation_id,
        producer="intake",
        supplement_id=supplement_id,
        received_at=utc_now(),
        update=FactsUpdate.model_validate(update),
        identifiers=seal_identifiers(
            key or DataKey(tip.tip_id, os.urandom(32)),
            narrative,
            None,
            [],
            prefix=f"supplements.{supplement_id}.",
        ),
    )


def tip_triaged(
    tip: TipReceivedV1,
    urgency: str,
    minor: bool = False,
    danger: bool = False,
    revision: int = 1,
    possible: tuple[str, ...] = (),
    facts: TipFacts | None = None,
) -> TipTriagedV1:
    """Triage's verdict on ``tip`` as disclosure and referral receive it; ``possible`` adds triage's
    ``possible_minor`` / ``possible_danger`` reasons.
    """
    return TipTriagedV1(
        tip_id=tip.tip_id,
        correlation_id=tip.correlation_id,
        producer="triage",
        revision=revision,
        urgency=Urgency(urgency),
        reasons=[Reason(code=code, en="A test.", fr="Un test.") for code in ("test.reason", *possible)],
        minor_involved=minor,
        imminent_danger=danger,
        ruleset_version="test",
        received_at=tip.received_at,
        facts=facts or tip.facts,
    )


def consent_recorded(
    tip: TipReceivedV1, version: int, withdrawn: list[str], by: str = "reporter", **consent: bool
) -> ConsentRecordedV1:
    """A consent record of ``tip``; ``by`` is the recording role (reporter, specialist, supervisor)."""
    return ConsentRecordedV1(
        tip_id=tip.tip_id,
        correlation_id=tip.correlation_id,
        producer="intake",
        version=version,
        consent=Consent(**consent),
        withdrawn=withdrawn,
        channel=tip.facts.channel,
        interpreter_used=False,
        recorded_by_role=by,
        recorded_at=utc_now(),
    )
