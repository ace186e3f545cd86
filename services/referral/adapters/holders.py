"""Who may act on a tip's referrals: intake holds the assignments, so referral asks it, with the
caller's own token, whether the caller holds the tip (``GET /v1/casework/tips/{tip_id}``).
"""

from __future__ import annotations

import uuid

import httpx


class HolderUnknown(Exception):
    """Intake did not answer: nobody but a supervisor acts until it does."""


async def holds(intake_url: str, token: str, tip_id: uuid.UUID) -> bool:
    """Whether the person whose token this is holds the tip."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(
                f"{intake_url}/v1/casework/tips/{tip_id}", headers={"authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as error:
        raise HolderUnknown from error
    if answer.status_code in (403, 404):
        return False
    if answer.status_code != 200:
        raise HolderUnknown
    holder = answer.json().get("holder")
    return bool(holder and holder.get("is_you"))
