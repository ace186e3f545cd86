"""Which event classes travel on which topic."""

from __future__ import annotations

from schemas import topics
from schemas.disclosure import (
    DisclosureAcknowledgedV1,
    DisclosureCancelledV1,
    DisclosureDecidedV1,
    DisclosureForwardedV1,
    DisclosureReviewedV1,
    DisclosureReviewFlaggedV1,
)
from schemas.envelope import EventBase
from schemas.intake import ConsentRecordedV1, TipReceivedV1, TipSupplementedV1
from schemas.referral import ReferralChangedV1, ReferralsProposedV1
from schemas.triage import (
    ResponsePlanAcknowledgedV1,
    ResponsePlanCompletedV1,
    ResponsePlanStartedV1,
    ResponsePlanStepCompletedV1,
    ResponsePlanStepFlaggedV1,
    ResponsePlanSupersededV1,
    TipTriagedV1,
)

EVENTS_BY_TOPIC: dict[str, tuple[type[EventBase], ...]] = {
    topics.TIPS_RECEIVED: (TipReceivedV1,),
    topics.TIPS_SUPPLEMENTED: (TipSupplementedV1,),
    topics.CONSENTS: (ConsentRecordedV1,),
    topics.TIPS_TRIAGED: (TipTriagedV1,),
    topics.RESPONSE_PLANS: (
        ResponsePlanStartedV1,
        ResponsePlanAcknowledgedV1,
        ResponsePlanStepFlaggedV1,
        ResponsePlanStepCompletedV1,
        ResponsePlanCompletedV1,
        ResponsePlanSupersededV1,
    ),
    topics.DISCLOSURES: (
        DisclosureDecidedV1,
        DisclosureReviewedV1,
        DisclosureForwardedV1,
        DisclosureCancelledV1,
        DisclosureAcknowledgedV1,
        DisclosureReviewFlaggedV1,
    ),
    topics.REFERRALS: (ReferralsProposedV1, ReferralChangedV1),
}

ALL_EVENTS: tuple[type[EventBase], ...] = tuple(
    event for events in EVENTS_BY_TOPIC.values() for event in events
)
