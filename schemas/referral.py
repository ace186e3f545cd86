"""Events published by referral."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from schemas.envelope import Contract, EventBase
from schemas.tip import Need
from schemas.triage import Reason

ProviderId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    NO_MATCH = "no_match"
    NOT_CONSENTED = "not_consented"
    OUTSIDE_CANADA = "outside_canada"


class Population(StrEnum):
    """Who a service is for, as eligibility (only) or as its focus (culturally specific fit)."""

    INDIGENOUS = "indigenous"
    FIRST_NATIONS = "first_nations"
    INUIT = "inuit"
    METIS = "metis"
    MIGRANT_WORKERS = "migrant_workers"
    NEWCOMERS = "newcomers"
    TWO_SPIRIT_LGBTQI = "2slgbtqi"
    YOUTH = "youth"
    YOUTH_LEAVING_CARE = "youth_leaving_care"
    WOMEN = "women"
    MEN = "men"


class AreaLevel(StrEnum):
    CITY = "city"
    PROVINCE = "province"
    NATIONAL = "national"


class ProviderProposal(Contract):
    provider_id: ProviderId
    provider_name: Annotated[str, Field(max_length=200)]
    services: list[Need]
    reasons: list[Reason]
    referral_id: uuid.UUID | None = Field(default=None, description="The referral this proposal opened.")
    score: float = 0.0
    area_level: AreaLevel | None = None


class ReferralsProposedV1(EventBase):
    """Referral matched a tip against the provider directory and proposes providers, with reasons.

    ``reasons`` says how the search went, including each widening step it needed.
    """

    event_type: Literal["referral.proposed"] = "referral.proposed"
    schema_version: Literal[1] = 1
    status: ProposalStatus
    proposals: list[ProviderProposal]
    reasons: list[Reason]
    outside_referral: str | None = Field(
        default=None, description="Where an outside-Canada situation is referred (a directory's address)."
    )


class ReferralStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    REVOKED = "revoked"


class ReferralChangedV1(EventBase):
    """A referral moved on its lifecycle: proposed -> accepted | declined -> completed | revoked.

    Never carries a provider's confidential address.
    """

    event_type: Literal["referral.changed"] = "referral.changed"
    schema_version: Literal[1] = 1
    referral_id: uuid.UUID
    provider_id: ProviderId
    status: ReferralStatus
    previous_status: ReferralStatus
    reason: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")
    warm_transfer: bool = False
    by_role: str
