"""The provider side of the directory: a provider asks through the public form (English or French, no
JavaScript, no cookies), a partnership specialist takes and decides the request (audited, only by the
one who holds it), and providers whose details are old are asked to confirm them and, silent past the
grace period, leave the public directory and matching without being deleted."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
import httpx
import pytest
import structlog

from services.common.auth import Role, Staff, add_staff, create_token
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.referral.adapters import provider_requests
from services.referral.adapters.directory import import_file, load, stored_directory
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.domain.provider_requests import (
    ProviderDetails,
    ProviderRequest,
    RequestKind,
    locations_of,
)
from services.referral.settings import ReferralSettings
from tests.helpers import eventually, http_client, running

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


async def approve(desk: Desk, body: str, approval: dict[str, object] | None = None) -> httpx.Response:
    """Send ``body`` through the form, then take and approve it as Alice."""
    sent = await desk.client.post(
        FORM, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert sent.status_code == 200, sent.text
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=desk.alice)
    return await desk.client.post(
        f"/v1/provider-requests/{pending['request_id']}/approve", json=approval or {}, headers=desk.alice
    )


async def test_an_approved_update_applies_every_field_a_provider_may_change_and_keeps_its_address_confidential(
    desk: Desk,
) -> None:
    body = (
        "kind=update&organization_id=corath&organization_name=CORATH&phone=613-555-0199&languages=fr%2C+ar"
        "&serves_provinces=ON&serves_provinces=QC&city=Gatineau&province=QC&address_1=12+Rue+Secr%C3%A8te"
        "&postal_code=J8X+1A1&hours=Lundi+au+vendredi%2C+9+h+%C3%A0+17+h&service_types=legal"
        "&service_types=immigration&minimum_age=16&maximum_age=99&eligibility=Adultes+et+jeunes"
        "&open_24_7=true&capacity_available=3&capacity_maximum=10&address_public=true"
    )
    sent = await desk.client.post(
        FORM, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert sent.status_code == 200 and pending["details"]["languages"] == ["fr", "ar"]
    changed = {(change["table"], change["field"]) for change in pending["changes"]}
    assert {("phone", "number"), ("language", "code"), ("service", "minimum_age"), ("address", "address_1"),
            ("schedule", "description"), ("service_area", "scope")} <= changed  # fmt: skip
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/take", headers=desk.alice)
    approved = await desk.client.post(
        f"/v1/provider-requests/{pending['request_id']}/approve", json={}, headers=desk.alice
    )
    assert approved.status_code == 200, approved.text

    service = (await desk.client.get("/hsds/services/corath-ottawa")).json()
    assert [phone["number"] for phone in service["phones"]] == ["613-555-0199"]
    assert sorted(language["code"] for language in service["languages"]) == ["ar", "fr"]
    assert sorted(area.get("province") for area in service["service_areas"]) == ["ON", "QC", "QC"]
    assert service["schedules"][0]["description"] == "Lundi au vendredi, 9 h à 17 h"
    assert (service["minimum_age"], service["maximum_age"], service["eligibility_description"]) == (
        16, 99, "Adultes et jeunes",
    )  # fmt: skip
    # The provider agreed to a public address, but the specialist did not approve it: confidential.
    assert "Secrète" not in str(service) and "J8X" not in str(service)
    connection = await connect(desk.settings.database_url, "referral")
    try:
        [provider] = [p for p in (await load(connection)).providers if p.provider_id == "corath-ottawa"]
        assert {need.value for need in provider.service_types} == {"legal", "immigration"}
        assert provider.open_24_7 and provider.capacity_available == 3 and provider.city == "Gatineau"
        assert provider.languages == frozenset({"fr", "ar"})
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM hsds_addresses WHERE record ->> 'postal_code' = 'J8X 1A1'"
            )
            == 1
        )
    finally:
        await connection.close()


async def test_a_street_address_becomes_public_only_with_the_specialists_approval_and_a_new_one_is_confidential_again(
    desk: Desk,
) -> None:
    street = "kind=update&organization_id=corath&organization_name=CORATH&city=Ottawa&province=ON&postal_code=K1P+1J1"
    assert (
        await approve(
            desk, f"{street}&address_1=1+Rue+Publique&address_public=true", {"address_public": True}
        )
    ).status_code == 200
    assert "1 Rue Publique" in str((await desk.client.get("/hsds/organizations/corath")).json())
    assert (await approve(desk, f"{street}&address_1=2+Rue+Nouvelle&address_public=true")).status_code == 200
    shown = str((await desk.client.get("/hsds/organizations/corath")).json())
    assert "Rue Nouvelle" not in shown and "Rue Publique" not in shown


async def test_a_street_address_or_a_listing_is_never_made_public_against_the_providers_answer(
    desk: Desk,
) -> None:
    street = (
        "kind=update&organization_id=corath&organization_name=CORATH&city=Ottawa&province=ON"
        "&postal_code=K1P+1J1&address_1=9+Rue+Cach%C3%A9e"
    )
    refused = await approve(desk, street, {"address_public": True})
    assert refused.status_code == 409 and refused.json()["rule"] == "address_not_consented"
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert pending["status"] == "pending"
    assert "Cachée" not in str((await desk.client.get("/hsds/organizations/corath")).json())
    hidden = await desk.client.post(
        f"/v1/provider-requests/{pending['request_id']}/approve", json={}, headers=desk.alice
    )
    assert hidden.status_code == 200  # approved, its address confidential
    assert "Cachée" not in str((await desk.client.get("/hsds/organizations/corath")).json())

    both = await approve(desk, f"{street}&address_public=true&hide_address=true", {"address_public": True})
    assert both.status_code == 409 and both.json()["rule"] == "address_not_consented"
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    await desk.client.post(f"/v1/provider-requests/{pending['request_id']}/reject", json={"reason": "x"},
                           headers=desk.alice)  # fmt: skip

    leaving = await approve(
        desk, "kind=update&organization_id=corath&organization_name=CORATH&leave_public_directory=true",
        {"public": True},
    )  # fmt: skip
    assert leaving.status_code == 409 and leaving.json()["rule"] == "listing_not_consented"


async def test_a_provider_hides_its_address_or_leaves_the_public_directory_at_once_before_any_approval(
    settings: ServiceSettings,
) -> None:
    app = build_referral(settings)
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with running(app), http_client(app) as client:
        assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
        assert (await client.get("/hsds/organizations/corath")).status_code == 200
        sent = await client.post(
            FORM, content="kind=update&organization_id=corath&organization_name=CORATH&leave_public_directory=true",
            headers=form,
        )  # fmt: skip
        assert sent.status_code == 200

        async def gone() -> bool:
            return (await client.get("/hsds/organizations/corath")).status_code == 404

        assert await eventually(gone, timeout=20), "the organization is still in the public directory"
        connection = await connect(settings.database_url, "referral")
        try:
            # Still matched: leaving the public directory is not leaving the hotline's referrals.
            assert "corath-ottawa" in {p.provider_id for p in (await load(connection)).providers}
            audit = await provider_requests.audit_of(connection, "organization:corath")
            assert [entry["action"] for entry in audit] == ["left_public_directory"]
        finally:
            await connection.close()


async def test_a_request_decided_before_the_background_pass_still_hides_the_address_and_leaves_the_directory(
    settings: ServiceSettings,
) -> None:
    """No referral running: the background pass never sees these requests, decide alone must apply them."""
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    staff = Staff(token_id=uuid.uuid4(), role=Role.PARTNERSHIPS)
    connection = await connect(settings.database_url, "referral")
    try:
        hide = ProviderRequest(
            kind=RequestKind.UPDATE, organization_id="corath",
            details=ProviderDetails(organization_name="CORATH", hide_address=True),
        )  # fmt: skip
        leave = ProviderRequest(
            kind=RequestKind.UPDATE, organization_id="corath",
            details=ProviderDetails(organization_name="CORATH", leave_public_directory=True),
        )  # fmt: skip
        declined = await provider_requests.submit(connection, hide, "en")
        approved = await provider_requests.submit(connection, leave, "en")
        for request_id in (declined, approved):
            assert await provider_requests.take(connection, request_id, staff)
        answer = await provider_requests.decide(
            connection, declined, staff, approve=False, reason="Not the owner"
        )
        assert answer is not None and answer["restrictions_applied"] is True  # declining does not undo it
        await provider_requests.decide(connection, approved, staff, approve=True)

        tables, confirmations = await stored_directory(connection, with_addresses=False)
        locations = locations_of(tables, "corath")
        assert locations and all(confirmations.address_public.get(key) is False for key in locations)
        assert confirmations.public.get("corath") is False
        audit = [
            entry["action"] for entry in await provider_requests.audit_of(connection, "organization:corath")
        ]
        assert sorted(audit) == ["address_hidden", "left_public_directory"]
        assert await connection.fetchval(
            "SELECT bool_and(restrictions_applied_at IS NOT NULL) FROM provider_requests"
        )
        assert await provider_requests.apply_restrictions(connection) == 0  # nothing applied twice
    finally:
        await connection.close()


async def test_an_update_of_an_organization_with_several_services_must_name_the_one_it_changes(
    desk: Desk,
) -> None:
    connection = await connect(desk.settings.database_url, "referral")
    try:
        await connection.execute(
            "INSERT INTO hsds_records (resource, id, record) VALUES ('service', 'corath-second',"
            ' \'{"id": "corath-second", "organization_id": "corath", "name": "Second", "status": "active"}\')'
        )
    finally:
        await connection.close()
    refused = await approve(
        desk, "kind=update&organization_id=corath&organization_name=CORATH&hours=Toujours"
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "name_the_service"


async def test_a_nul_in_the_form_is_stored_as_a_replacement_character_not_a_server_error(desk: Desk) -> None:
    sent = await desk.client.post(
        FORM, content="kind=registration&organization_name=Maison%00Aurore&address_1=1%00Rue",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 200
    [pending] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert pending["details"]["organization_name"] == "Maison\ufffdAurore"


def exported(name: str) -> float | None:
    """What ``/metrics`` gives referral's ``name``."""
    from prometheus_client import generate_latest

    from services.common import telemetry

    telemetry.meter_provider("referral")
    for line in generate_latest().decode().splitlines():
        if line.startswith(f"{name}{{") and 'service="referral"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_a_burst_of_hide_or_leave_requests_raises_the_alert_metric_and_logs_counts_only(
    settings: ServiceSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.common.db import create_pool
    from services.common.logging import configure_logging
    from services.referral.entrypoints.kafka import RestrictionWatch

    def update(organization: str, **restriction: bool) -> ProviderRequest:
        details = ProviderDetails(organization_name="Refuge", email="contact@refuge.example", **restriction)
        return ProviderRequest(kind=RequestKind.UPDATE, organization_id=organization, details=details)

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("referral")
    pool = await create_pool(settings.database_url_of("referral"), "referral", max_size=2)
    watch = RestrictionWatch(pool, "referral", threshold=3, window=timedelta(hours=1))
    try:
        async with pool.acquire() as connection:
            old = await provider_requests.submit(
                connection, update("corath", leave_public_directory=True), "fr"
            )
            await provider_requests.submit(connection, update("corath", hide_address=True), "en")
            await provider_requests.submit(connection, update("refuge"), "en")  # no restriction: not counted
            registration = ProviderRequest(
                kind=RequestKind.REGISTRATION, details=ProviderDetails(organization_name="Un")
            )
            await provider_requests.submit(connection, registration, "en")
            await provider_requests.submit(connection, update("refuge", hide_address=True), "en")
        owner = await connect(settings.database_url, "referral")
        try:  # one came in before the window: three in all, two within it
            await owner.execute(
                "UPDATE provider_requests SET received_at = now() - interval '2 hours' WHERE request_id = $1",
                old,
            )
        finally:
            await owner.close()
        calm = await watch.check()
        assert (calm.requests, calm.organizations, calm.burst) == (2, 2, False)
        assert exported("lantern_directory_restriction_burst") == 0
        assert exported("lantern_directory_restriction_requests") == 2

        async with pool.acquire() as connection:
            await provider_requests.submit(connection, update("maison", leave_public_directory=True), "en")
        burst = await watch.check()
        assert (burst.requests, burst.organizations, burst.burst) == (3, 3, True)
        assert exported("lantern_directory_restriction_burst") == 1
        assert exported("lantern_directory_restriction_requests") == 3
        await watch.check()  # still a burst: said once
        logged = [line for line in capsys.readouterr().out.splitlines() if "hide or leave" in line]
        assert len(logged) == 1 and '"count": 3' in logged[0] and '"threshold": 3' in logged[0]
        assert "refuge.example" not in logged[0] and "Refuge" not in logged[0]
    finally:
        await pool.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


async def test_referral_watches_for_bursts_from_its_start(settings: ServiceSettings) -> None:
    from services.common import metrics

    metrics.directory_restriction_burst.pop("referral", None)
    details = ProviderDetails(organization_name="CORATH", leave_public_directory=True)
    connection = await connect(settings.database_url_of("referral"), "referral")
    try:
        request = ProviderRequest(kind=RequestKind.UPDATE, organization_id="corath", details=details)
        await provider_requests.submit(connection, request, "en")
    finally:
        await connection.close()
    watching = ReferralSettings.of(settings).model_copy(update={"restriction_burst": 1})
    async with running(build_referral(watching)):

        async def alerted() -> bool:
            return exported("lantern_directory_restriction_burst") == 1

        assert await eventually(alerted, timeout=20)


async def inserted_as_the_public_role(
    settings: ServiceSettings, kind: str, details: str, organization_id: str | None = None,
    request_id: uuid.UUID | None = None,
) -> uuid.UUID:  # fmt: skip
    """A request as the public deployment's role may insert it, whatever the form would have refused."""
    from services.common.roles import PUBLIC_DIRECTORY

    request_id = request_id or uuid.uuid4()
    connection = await asyncpg.connect(settings.database_url_of(PUBLIC_DIRECTORY))
    try:
        await connection.execute(
            "INSERT INTO referral.provider_requests (request_id, kind, organization_id, details, language)"
            " VALUES ($1, $2, $3, $4::jsonb, 'en')",
            request_id, kind, organization_id, details,
        )  # fmt: skip
    finally:
        await connection.close()
    return request_id


async def test_a_request_whose_details_break_the_forms_rules_is_refused_and_the_queue_still_lists(
    desk: Desk,
) -> None:
    sent = await desk.client.post(
        FORM, content="kind=registration&organization_name=Maison+Aurore",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 200
    bad = await inserted_as_the_public_role(desk.settings, "registration", '{"organization_name": 5}')

    listed = await desk.client.get("/v1/provider-requests", headers=desk.alice)
    assert listed.status_code == 200
    shown = {request["request_id"]: request for request in listed.json()["requests"]}
    assert len(shown) == 2
    assert shown[str(bad)]["refused"] == "invalid_details" and shown[str(bad)]["changes"] == []
    [good] = [request for key, request in shown.items() if key != str(bad)]
    assert "refused" not in good and good["changes"]
    one = await desk.client.get(f"/v1/provider-requests/{bad}", headers=desk.alice)
    assert one.status_code == 200 and one.json()["refused"] == "invalid_details"

    await desk.client.post(f"/v1/provider-requests/{bad}/take", headers=desk.alice)
    approved = await desk.client.post(f"/v1/provider-requests/{bad}/approve", json={}, headers=desk.alice)
    assert approved.status_code == 409 and approved.json()["rule"] == "invalid_details"
    assert approved.json()["problems"] == ["details.organization_name: string_type"]
    rejected = await desk.client.post(
        f"/v1/provider-requests/{bad}/reject", json={"reason": "Not a provider"}, headers=desk.alice
    )
    assert rejected.status_code == 200


async def test_only_a_json_true_is_a_restriction_and_a_pass_that_hides_nothing_publishes_nothing(
    settings: ServiceSettings,
) -> None:
    """No referral running: only these calls apply restrictions."""
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    # The string "true" is not what the form writes: never applied, so never to be selected either.
    await inserted_as_the_public_role(
        settings, "update", '{"organization_name": "CORATH", "hide_address": "true"}', "corath"
    )
    await inserted_as_the_public_role(
        settings, "update", '{"organization_name": "CORATH", "leave_public_directory": "true"}', "corath"
    )
    # A real restriction, but of a listing that does not exist: applied, and nothing to take out.
    unlisted = await inserted_as_the_public_role(
        settings, "update", '{"organization_name": "Nobody", "hide_address": true}', "nobody"
    )
    connection = await connect(settings.database_url, "referral")
    try:
        version = await connection.fetchval("SELECT version FROM directory_state")
        assert await provider_requests.apply_restrictions(connection) == 1
        assert await provider_requests.apply_restrictions(connection) == 0
        assert await connection.fetchval("SELECT version FROM directory_state") == version
        assert await connection.fetchval(
            "SELECT array_agg(request_id) FROM provider_requests WHERE restrictions_applied_at IS NOT NULL"
        ) == [unlisted]
        since = await connection.fetchval("SELECT now() - interval '1 hour'")
        assert [organization for _, organization in await provider_requests.restriction_requests_since(
            connection, since
        )] == ["nobody"]  # fmt: skip
        tables, confirmations = await stored_directory(connection, with_addresses=False)
        assert confirmations.public.get("corath") is not False
        assert all(
            confirmations.address_public.get(key) is not False for key in locations_of(tables, "corath")
        )
    finally:
        await connection.close()


async def test_a_registration_whose_id_would_take_an_existing_listings_is_refused(desk: Desk) -> None:
    sent = await desk.client.post(
        FORM, content="kind=registration&organization_name=Maison+Aurore",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sent.status_code == 200
    [first] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    await desk.client.post(f"/v1/provider-requests/{first['request_id']}/take", headers=desk.alice)
    approved = await desk.client.post(
        f"/v1/provider-requests/{first['request_id']}/approve", json={"public": True}, headers=desk.alice
    )
    organization = approved.json()["organization_id"]
    # The public role chooses a request's id: the same first twelve digits name the same listing.
    twin = uuid.UUID(first["request_id"][:24] + "0" * 12)
    assert twin != uuid.UUID(first["request_id"])
    await inserted_as_the_public_role(
        desk.settings, "registration", '{"organization_name": "Usurpateur"}', request_id=twin
    )

    [shown] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert shown["request_id"] == str(twin) and shown["refused"] == "already_listed"
    await desk.client.post(f"/v1/provider-requests/{twin}/take", headers=desk.alice)
    refused = await desk.client.post(
        f"/v1/provider-requests/{twin}/approve", json={"public": True}, headers=desk.alice
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "already_listed"
    listing = await desk.client.get(f"/hsds/organizations/{organization}")
    assert listing.status_code == 200 and listing.json()["name"] == "Maison Aurore"


async def test_an_unknown_key_in_a_requests_details_is_refused_without_ever_being_shown_or_logged(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    # A key is a provider's text too: a compromised public app could put anything there.
    key = "Jane Doe 613-555-0199"
    bad = await inserted_as_the_public_role(
        desk.settings, "registration", json.dumps({"organization_name": "Maison Aurore", key: "x"})
    )
    listed = await desk.client.get("/v1/provider-requests", headers=desk.alice)
    [shown] = listed.json()["requests"]
    assert shown["refused"] == "invalid_details"
    await desk.client.post(f"/v1/provider-requests/{bad}/take", headers=desk.alice)
    approved = await desk.client.post(f"/v1/provider-requests/{bad}/approve", json={}, headers=desk.alice)
    assert approved.status_code == 409 and approved.json()["problems"] == ["details: extra_forbidden"]
    one = await desk.client.get(f"/v1/provider-requests/{bad}", headers=desk.alice)
    assert one.json()["refused"] == "invalid_details"
    logged = capsys.readouterr()
    for text in (approved.text, logged.out, logged.err):
        assert "Jane" not in text and "613-555-0199" not in text


async def test_a_request_breaking_many_rules_names_only_the_first_few(desk: Desk) -> None:
    fields = (
        "organization_name", "service_name", "description", "email", "phone", "website", "city",
        "address_1", "postal_code", "hours", "eligibility", "province",
    )  # fmt: skip
    bad = await inserted_as_the_public_role(
        desk.settings, "registration", json.dumps(dict.fromkeys(fields, 5))
    )
    await desk.client.post(f"/v1/provider-requests/{bad}/take", headers=desk.alice)
    approved = await desk.client.post(f"/v1/provider-requests/{bad}/approve", json={}, headers=desk.alice)
    problems = approved.json()["problems"]
    assert len(problems) == 11 and problems[-1] == "details: 2 more"
    assert all(problem.startswith("details.") for problem in problems[:10])


@pytest.mark.parametrize("flag", ["hide_address", "leave_public_directory", "address_public"])
@pytest.mark.parametrize("loose", ['"true"', "1"])
async def test_a_flag_that_is_not_json_true_or_false_makes_the_request_invalid(
    desk: Desk, flag: str, loose: str
) -> None:
    # The restriction queries read only JSON true: "true" or 1 read as True here would be approved as a
    # restriction that never took effect.
    bad = await inserted_as_the_public_role(
        desk.settings, "update", f'{{"organization_name": "CORATH", "{flag}": {loose}}}', "corath"
    )
    [shown] = (await desk.client.get("/v1/provider-requests", headers=desk.alice)).json()["requests"]
    assert shown["refused"] == "invalid_details"
    await desk.client.post(f"/v1/provider-requests/{bad}/take", headers=desk.alice)
    approved = await desk.client.post(f"/v1/provider-requests/{bad}/approve", json={}, headers=desk.alice)
    assert approved.status_code == 409 and approved.json()["problems"] == [f"details.{flag}: bool_type"]
