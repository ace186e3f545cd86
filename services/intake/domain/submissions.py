"""What callers send to intake besides a tip."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from schemas.envelope import Contract
from schemas.tip import (
    MAX_LIST,
    NOT_BLANK,
    Assessment,
    Channel,
    Consent,
    Contact,
    Location,
    NamedPerson,
    Need,
    VictimProfile,
)

FollowUpCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NOT_BLANK)
]
SupplementNarrative = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000, pattern=NOT_BLANK)
]


class SupplementSubmission(Contract):
    """New information from an anonymous reporter, with the follow-up code they were given."""

    code: FollowUpCode
    narrative: SupplementNarrative | None = None
    contact: Contact | None = None
    named_persons: Annotated[list[NamedPerson], Field(max_length=MAX_LIST)] = Field(default_factory=list)
    location: Location | None = None
    assessment: Assessment | None = None
    victim_profile: VictimProfile | None = None
    needs: Annotated[list[Need], Field(max_length=MAX_LIST)] | None = None


class ConsentUpdate(Contract):
    """A caller's consent as a specialist records it again: every scope stated anew."""

    consent: Consent
    channel: Channel
    interpreter_used: StrictBool = False
