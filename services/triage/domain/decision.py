"""A tip's triage as triage keeps it: what was received, what was decided, and how it was revised.

The received facts and the still-sealed narrative are kept so that a revision classifies the tip
again on everything known; what the classifier alone last concluded is kept so that new information
raises the urgency only on a new ground, and never undoes a supervisor's override by itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.intake import FactsUpdate, TipReceivedV1, TipSupplementedV1
from schemas.tip import TipFacts
from schemas.triage import OverrideReason, Reason, TipTriagedV1, TriageTrigger, Urgency, UrgencyOverride
from services.triage.domain import revisions
from services.triage.domain.actor import Actor
from services.triage.domain.classification import Classification


@dataclass(slots=True)
class Decision:
    """A tip's current triage and what a revision of it needs."""

    tip_id: uuid.UUID
    reference: str
    correlation_id: uuid.UUID
    traceparent: str | None
    source_event_id: uuid.UUID
    received_at: datetime
    received_facts: TipFacts
    sealed_narrative: str | None
    urgency: Urgency
    reasons: tuple[Reason, ...]
    minor_involved: bool
    imminent_danger: bool
    ruleset_version: str
    auto_urgency: Urgency
    auto_grounds: frozenset[str]
    revision: int = 1
    override_id: uuid.UUID | None = None

    @classmethod
    def first(cls, event: TipReceivedV1, classification: Classification) -> Decision:
        """A received tip's first triage: the classifier's verdict."""
        return cls(
            tip_id=event.tip_id, reference=event.reference, correlation_id=event.correlation_id,
            traceparent=event.traceparent, source_event_id=event.event_id, received_at=event.received_at,
            received_facts=event.facts, sealed_narrative=event.identifiers.narrative,
            urgency=classification.urgency, reasons=classification.reasons,
            minor_involved=classification.minor_involved, imminent_danger=classification.imminent_danger,
            ruleset_version=classification.ruleset_version, auto_urgency=classification.urgency,
            auto_grounds=classification.urgent_grounds,
        )  # fmt: skip

    def revise_with(self, latest: Classification) -> bool:
        """Revise with the classifier's view of everything known now; return whether the urgency rose.

        A supervisor's override stands unless the new information raises the urgency.
        """
        revision = revisions.after_new_information(self.urgency, self.auto_urgency, self.auto_grounds, latest)
        raised = revision.changes(self.urgency)
        self._revise(revision, latest, None if raised else self.override_id)
        return raised

    def override(
        self, urgency: Urgency, reason: OverrideReason, latest: Classification, override_id: uuid.UUID
    ) -> None:
        """A supervisor sets the urgency; raises ``revisions.UrgencyUnchanged`` when it already is that."""
        self._revise(revisions.overridden(self.urgency, urgency, reason, latest), latest, override_id)

    def triaged(
        self,
        envelope: dict[str, Any],
        trigger: TriageTrigger,
        facts: TipFacts,
        latest: Classification,
        override: UrgencyOverride | None = None,
    ) -> TipTriagedV1:
        """The current revision as published, with the facts and findings it was decided on."""
        return TipTriagedV1(
            **envelope, revision=self.revision, trigger=trigger, override=override, urgency=self.urgency,
            reasons=list(self.reasons), indicators=list(latest.indicators), missing=list(latest.missing),
            minor_involved=latest.minor_involved, imminent_danger=latest.imminent_danger,
            ruleset_version=latest.ruleset_version, received_at=self.received_at, facts=facts,
        )  # fmt: skip

    def _revise(
        self, revision: revisions.Revision, latest: Classification, override_id: uuid.UUID | None
    ) -> None:
        self.revision += 1
        self.urgency, self.reasons = revision.urgency, revision.reasons
        self.minor_involved, self.imminent_danger = latest.minor_involved, latest.imminent_danger
        self.ruleset_version = latest.ruleset_version
        self.auto_urgency, self.auto_grounds = latest.urgency, latest.urgent_grounds
        self.override_id = override_id


@dataclass(frozen=True, slots=True)
class Supplement:
    """What a reporter added to a tip, its narrative still sealed."""

    supplement_id: uuid.UUID
    tip_id: uuid.UUID
    update: FactsUpdate
    sealed_narrative: str | None
    received_at: datetime

    @classmethod
    def of(cls, event: TipSupplementedV1) -> Supplement:
        """The supplement an event carries."""
        return cls(
            event.supplement_id, event.tip_id, event.update, event.identifiers.narrative, event.received_at
        )

    @property
    def narrative_field(self) -> str:
        """The field its narrative is sealed as, under the tip's key."""
        return f"supplements.{self.supplement_id}.narrative"


@dataclass(frozen=True, slots=True)
class Override:
    """A supervisor's override in the audit; the explanation is sealed under the tip's key."""

    override_id: uuid.UUID
    tip_id: uuid.UUID
    revision: int
    from_urgency: Urgency
    to_urgency: Urgency
    reason: OverrideReason
    sealed_note: str | None
    by: Actor
    at: datetime

    @property
    def note_field(self) -> str:
        """The field its note is sealed as, under the tip's key."""
        return note_field(self.override_id)


def note_field(override_id: uuid.UUID) -> str:
    """The field an override's note is sealed as, under the tip's key."""
    return f"triage.overrides.{override_id}.note"
