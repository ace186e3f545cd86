"""The provider side of the directory: a provider asks through the public form (English or French, no
JavaScript, no cookies), a partnership specialist takes and decides the request (audited, only by the
one who holds it), and providers whose details are old are asked to confirm them and, silent past the
grace period, leave the public directory and matching without being deleted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
import httpx
import pytest

from services.common.auth import Role, add_staff, create_token
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.referral.adapters import provider_requests
from services.referral.adapters.directory import import_file, load
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.settings import ReferralSettings
from tests.helpers import http_client, running

FORM = "/providers/register"


@dataclass
class Desk:
    client: httpx.AsyncClient
    settings: ServiceSettings
    alice: dict[str, str]
    bob: dict[str, str]
    supervisor: dict[str, str]


async def partnership_specialist(
    settings: ServiceSettings, name: str, role: Role = Role.PARTNERSHIPS
) -> dict[str, str]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        person = await add_staff(connection, name, [role])
        _, token = await create_token(connection, role, "test", person_id=person)
    finally:
        await connection.close()
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def desk(settings: ServiceSettings) -> AsyncIterator[Desk]:
    app = build_referral(settings)
    async with running(app), http_client(app) as client:
        assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
        yield Desk(
            client, settings, await partnership_specialist(settings, "Alice Partnerships"),
            await partnership_specialist(settings, "Bob Partnerships"),
            await partnership_specialist(settings, "Sam Supervisor", Role.SUPERVISOR),
        )  # fmt: skip


async def test_the_public_form_is_bilingual_needs_no_script_sets_no_cookie_and_keeps_a_strict_policy(
    desk: Desk,
) -> None:
    english = await desk.client.get(FORM, params={"lang": "en"})
    french = await desk.client.get(FORM, params={"lang": "fr"})
    for page, words in ((english, "List your organization"), (french, "Inscrire votre organisme")):
        assert page.status_code == 200 and words in page.text
        assert "<script" not in page.text and "set-cookie" not in page.headers
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
    sent = await desk.client.post(
        FORM, content="lang=fr&kind=registration&organization_name=Maison+Aurore&city=Gatineau&province=QC",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 200 and "votre demande a été reçue" in sent.text
    assert "set-cookie" not in sent.headers
    refused = await desk.client.post(
        FORM, content="lang=en&kind=registration&website=ftp%3A%2F%2Fx",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert refused.status_code == 422 and 'href="#organization_name"' in refused.text
    assert "ftp://x" in refused.text  # what they typed is shown back to them, escaped, on their own page


async def test_a_registration_is_pending_until_the_specialist_who_took_it_approves_and_it_is_audited(
    desk: Desk,
) -> None:
    await desk.client.post(
        FORM, content="kind=registration&organization_name=Maison+Aurore&service_name=H%C3%A9bergement&city=Gatineau",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert (await desk.client.get("/v1/provider-requests", headers=desk.supervisor)).status_code == 403
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert pending["kind"] == "registration" and pending["details"]["organization_name"] == "Maison Aurore"
    request_id = pending["request_id"]

    early = await desk.client.post(f"/v1/provider-requests/{request_id}/approve", json={}, headers=desk.alice)
    assert early.status_code == 403 and early.json()["rule"] == "take_the_request_first"
    assert (
        await desk.client.post(f"/v1/provider-requests/{request_id}/take", headers=desk.alice)
    ).status_code == 200
    taken = await desk.client.post(f"/v1/provider-requests/{request_id}/take", headers=desk.bob)
    assert taken.status_code == 403 and taken.json()["rule"] == "held_by_another_person"
    by_bob = await desk.client.post(f"/v1/provider-requests/{request_id}/approve", json={}, headers=desk.bob)
    assert by_bob.status_code == 403

    approved = await desk.client.post(
        f"/v1/provider-requests/{request_id}/approve", json={"public": True}, headers=desk.alice
    )
    assert approved.status_code == 200
    organization = approved.json()["organization_id"]
    listed = (await desk.client.get(f"/hsds/organizations/{organization}")).json()
    assert listed["name"] == "Maison Aurore"
    again = await desk.client.post(
        f"/v1/provider-requests/{request_id}/reject", json={"reason": "duplicate"}, headers=desk.alice
    )
    assert again.status_code == 409
    connection = await connect(desk.settings.database_url, "referral")
    try:
        audit = await provider_requests.audit_of(connection, f"request:{request_id}")
    finally:
        await connection.close()
    assert [entry["action"] for entry in audit] == ["received", "taken", "approved"]
    assert audit[1]["person_id"] == audit[2]["person_id"] is not None


async def test_a_registration_not_said_public_stays_out_of_the_public_directory(desk: Desk) -> None:
    await desk.client.post(
        FORM, content="kind=registration&organization_name=Refuge+discret",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=desk.alice)
    approved = await desk.client.post(
        f"/v1/provider-requests/{pending['request_id']}/approve", json={}, headers=desk.alice
    )
    assert (
        await desk.client.get(f"/hsds/organizations/{approved.json()['organization_id']}")
    ).status_code == 404


async def test_an_update_from_a_partner_changes_its_listing_only_once_approved(desk: Desk) -> None:
    sent = await desk.client.post(
        FORM, content="kind=update&organization_id=corath&organization_name=CORATH+Ottawa",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 200
    assert (await desk.client.get("/hsds/organizations/corath")).json()["name"] != "CORATH Ottawa"
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert pending["organization_id"] == "corath"
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=desk.alice)
    assert (
        await desk.client.post(
            f"/v1/provider-requests/{pending['request_id']}/approve", json={}, headers=desk.alice
        )
    ).status_code == 200
    assert (await desk.client.get("/hsds/organizations/corath")).json()["name"] == "CORATH Ottawa"


async def test_a_provider_that_does_not_confirm_in_time_leaves_the_directory_and_matching_but_is_kept(
    desk: Desk,
) -> None:
    connection = await connect(desk.settings.database_url, "referral")
    try:
        later = date.today() + timedelta(days=800)
        asked = await provider_requests.reconfirmation_round(
            connection, timedelta(days=365), timedelta(0), later
        )
        assert asked > 0
        listed = (await desk.client.get("/v1/directory/reconfirmations", headers=desk.alice)).json()
        assert {"corath"} <= {entry["organization_id"] for entry in listed["reconfirmations"]}
        assert (
            await desk.client.get("/hsds/organizations/corath")
        ).status_code == 200  # asked, not yet lapsed

        await provider_requests.reconfirmation_round(connection, timedelta(days=365), timedelta(0), later)
        assert (await desk.client.get("/hsds/organizations/corath")).status_code == 404
        assert "corath-ottawa" not in {
            provider.provider_id for provider in (await load(connection)).providers
        }
        assert await connection.fetchval("SELECT count(*) FROM hsds_records WHERE id = 'corath'") == 1

        confirmed = await desk.client.post("/v1/directory/reconfirmations/corath/confirm", headers=desk.alice)
        assert confirmed.status_code == 200
        assert (await desk.client.get("/hsds/organizations/corath")).status_code == 200
        assert "corath-ottawa" in {provider.provider_id for provider in (await load(connection)).providers}
        nothing = await desk.client.post("/v1/directory/reconfirmations/corath/confirm", headers=desk.alice)
        assert nothing.status_code == 404
        audit = await provider_requests.audit_of(connection, "organization:corath")
        assert [entry["action"] for entry in audit] == [
            "confirmation_requested",
            "lapsed",
            "details_confirmed",
        ]
    finally:
        await connection.close()


async def test_an_unknown_request_is_404_and_a_rejection_needs_a_reason(desk: Desk) -> None:
    missing = await desk.client.post(f"/v1/provider-requests/{uuid.uuid4()}/take", headers=desk.alice)
    assert missing.status_code == 404
    await desk.client.post(
        FORM,
        content="kind=registration&organization_name=Test",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=desk.alice)
    blank = await desk.client.post(
        f"/v1/provider-requests/{pending['request_id']}/reject", json={"reason": " "}, headers=desk.alice
    )
    assert blank.status_code == 422


async def test_the_public_form_is_rate_limited_per_client_with_retry_after_and_a_mistake_is_not_counted(
    settings: ServiceSettings,
) -> None:
    limited = ReferralSettings.of(settings).model_copy(
        update={"registration_rate_limit": 2, "registration_rate_window_seconds": 3600}
    )
    app = build_referral(limited)
    form = {"content-type": "application/x-www-form-urlencoded", "accept-language": "fr"}
    async with running(app), http_client(app) as client:
        mistaken = await client.post(FORM, content="kind=registration&website=ftp%3A%2F%2Fx", headers=form)
        assert mistaken.status_code == 422
        for name in ("Premier", "Deuxieme"):
            sent = await client.post(
                FORM, content=f"kind=registration&organization_name={name}", headers=form
            )
            assert sent.status_code == 200
        # A header any client can write names no other client: no proxy is trusted by default.
        flooded = await client.post(
            FORM, content="kind=registration&organization_name=Troisieme",
            headers={**form, "x-forwarded-for": "198.51.100.7"},
        )  # fmt: skip
        assert flooded.status_code == 429
        assert 1 <= int(flooded.headers["retry-after"]) <= 3600
        assert "Trop de demandes" in flooded.text and flooded.headers["cache-control"] == "no-store"
        specialist = await partnership_specialist(settings, "Alice Partnerships")
        queued = (await client.get("/v1/provider-requests", headers=specialist)).json()["requests"]
        assert sorted(request["details"]["organization_name"] for request in queued) == [
            "Deuxieme",
            "Premier",
        ]


async def test_the_form_refuses_a_field_it_does_not_have_and_a_registration_that_names_a_listing(
    desk: Desk,
) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    unknown = await desk.client.post(
        FORM, content="organization_name=X&street=1+Rue+Secr%C3%A8te", headers=form
    )
    assert unknown.status_code == 422 and "Secr" not in unknown.text
    named = await desk.client.post(FORM, content="organization_name=X&organization_id=corath", headers=form)
    assert named.status_code == 422 and 'href="#organization_id"' in named.text
    assert (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"] == []
