"""The referral lifecycle, after Primero: proposed -> accepted | declined -> completed | revoked."""

from __future__ import annotations

from schemas.referral import ReferralStatus

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.PROPOSED: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.REVOKED}
    ),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.COMPLETED, ReferralStatus.REVOKED}),
    ReferralStatus.DECLINED: frozenset(),
    ReferralStatus.COMPLETED: frozenset(),
    ReferralStatus.REVOKED: frozenset(),
}
NEEDS_A_REASON = frozenset({ReferralStatus.DECLINED, ReferralStatus.REVOKED})


class TransitionRefused(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def check_transition(
    current: ReferralStatus,
    to: ReferralStatus,
    reason: str | None,
    warm_transfer: bool,
    referral_consent: bool,
) -> None:
    """Refuse a move the lifecycle does not allow, a decline or revocation without a reason, and a
    warm transfer without the caller's consent to be referred.
    """
    if to not in TRANSITIONS[current]:
        raise TransitionRefused(f"a {current.value} referral cannot become {to.value}")
    if to in NEEDS_A_REASON and not reason:
        raise TransitionRefused(f"a referral is {to.value} with a reason")
    if warm_transfer and not referral_consent:
        raise TransitionRefused("a warm transfer needs the caller's consent to be referred")
