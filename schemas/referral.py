"""Events published by referral."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from schemas.envelope import Contract, EventBase
from schemas.tip import Need
from schemas.triage import Reason


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    NO_MATCH = "no_match"
    NOT_CONSENTED = "not_consented"
    OUTSIDE_CANADA = "outside_canada"


class ProviderProposal(Contract):
    provider_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
    provider_name: Annotated[str, Field(max_length=200)]
    services: list[Need]
    reasons: list[Reason]


class ReferralsProposedV1(EventBase):
    """Referral matched a tip against the provider directory and proposes providers."""

    event_type: Literal["referral.proposed"] = "referral.proposed"
    schema_version: Literal[1] = 1
    status: ProposalStatus
    proposals: list[ProviderProposal]
    reasons: list[Reason]
