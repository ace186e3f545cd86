"""A supervisor's preview of the package: each field with its value, exactly as the agency would read
it, opened under their name and audited, and nothing decided or sent.
"""

from collections.abc import AsyncIterator

import pytest

from services.common.agency_keys import AgencyKeys
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from tests.factories import CONTACT, NARRATIVE, tip_received, tip_triaged
from tests.helpers import fetch, http_client, new_data_key, running, staff_token
from tests.integration.test_disclosure_gate import NO_CONSENT, ORDER, POLICE, Gate

WITH_IDENTITY = {"law_enforcement": True, "share_identity": True}


@pytest.fixture
async def gate(settings: ServiceSettings, agency_keys: dict[str, AgencyKeys]) -> AsyncIterator[Gate]:
    app = build_disclosure(settings)
    async with running(app), http_client(app) as client:
        tokens = {
            "supervisor": await staff_token(settings.database_url, Role.SUPERVISOR),
            "specialist": await staff_token(settings.database_url, Role.SPECIALIST),
        }
        yield Gate(settings, client, tokens, agency_keys)


async def test_the_preview_shows_the_package_as_it_goes_out_and_sends_nothing_until_approved(
    gate: Gate,
) -> None:
    key = await new_data_key(gate.settings)
    tip = tip_received(key=key, channel="phone", consent=WITH_IDENTITY)
    await gate.publish(tip, tip_triaged(tip, "non_urgent"))
    await gate.case(tip, "pending_review")

    forbidden = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/preview",
        json={"reason": "consent_confirmed"},
        headers=gate.as_("specialist"),
    )
    shown = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/preview",
        json={"reason": "consent_confirmed"},
        headers=gate.as_("supervisor"),
    )
    assert forbidden.status_code == 403
    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    body = shown.json()
    [package] = body["packages"]
    assert (package["agency_id"], package["basis"], body["approvals_needed"]) == (POLICE, "consent", 1)
    assert package["content"]["narrative"] == [NARRATIVE]
    assert package["content"]["caller_contact"]["name"] == CONTACT["name"]
    assert "approved_by" not in package and "package_id" not in package

    case = await gate.case(tip, "pending_review")
    assert case["audit"][-1]["action"] == "previewed"
    assert await fetch(gate.settings, "SELECT 1 FROM disclosure.packages WHERE tip_id = $1", tip.tip_id) == []
    audit = await fetch(
        gate.settings, "SELECT purpose, outcome FROM keys.unseal_audit WHERE tip_id = $1", tip.tip_id
    )
    assert ("disclosure.preview", "unsealed") in [tuple(row) for row in audit]

    approved = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve",
        json={"reason": "consent_confirmed"},
        headers=gate.as_("supervisor"),
    )
    assert approved.json()["state"] == "forwarded", approved.text
    [sent] = [received.json() for received in await gate.packages(POLICE)]
    assert sent["content"] == package["content"]
    assert {key: sent[key] for key in ("agency_id", "basis", "fields", "urgency")} == {
        key: package[key] for key in ("agency_id", "basis", "fields", "urgency")
    }


async def test_a_legal_obligation_preview_counts_no_approval_and_a_refused_one_gives_the_policys_reasons(
    gate: Gate,
) -> None:
    tip = tip_received(**NO_CONSENT)
    await gate.publish(tip, tip_triaged(tip, "non_urgent"))
    await gate.case(tip, "not_forwarded")
    order = {"reason": "legal_obligation", "legal_reference": ORDER}
    shown = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/preview", json=order, headers=gate.as_("supervisor")
    )
    refused = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/preview",
        json={"reason": "consent_confirmed"},
        headers=gate.as_("supervisor"),
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["approvals_needed"] == 2
    assert [package["basis"] for package in shown.json()["packages"]] == ["legal_obligation"]
    assert refused.status_code == 409 and refused.json()["reasons"][0]["code"] == "basis.none"
    first = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=order, headers=gate.as_("supervisor")
    )
    assert first.json()["approvals"] == 1, "the preview's stand-in approvals were never kept"
