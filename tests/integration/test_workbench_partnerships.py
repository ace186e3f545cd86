"""The partnership specialist's page in the workbench, on a real referral service and database: the
queue of providers' requests with what each would change, taken, approved or declined with a reason,
and the providers asked to confirm their details; in English and French; nobody else's page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from services.common.auth import Role
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.referral.adapters import provider_requests
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.workbench.app import build_app as build_workbench
from tests.helpers import http_client, running
from tests.integration.test_workbench import person_token, served, signed_in, workbench_settings

FORM = {"content-type": "application/x-www-form-urlencoded"}


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


async def test_a_partnership_specialist_sees_each_request_with_its_changes_and_takes_approves_and_declines(
    settings: ServiceSettings,
) -> None:
    token = await person_token(settings, "Paula Partnerships", Role.PARTNERSHIPS)
    specialist = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    async with served(build_referral(settings)) as [referral_url]:
        async with httpx.AsyncClient(base_url=referral_url) as public:
            for body in ("kind=registration&organization_name=Maison+Aurore&city=Gatineau&province=QC",
                         "kind=update&organization_id=corath&organization_name=CORATH&phone=613-555-0142"):  # fmt: skip
                assert (
                    await public.post("/providers/register", content=body, headers=FORM)
                ).status_code == 200
        app = build_workbench(workbench_settings(settings, {"referral": referral_url}))
        async with running(app), http_client(app) as client, http_client(app) as other:
            signin = await client.post("/signin", data={**await _signin_fields(client), "token": token})
            assert signin.status_code == 303 and signin.headers["location"] == "/partnerships"
            page = await client.get("/partnerships")
            assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
            assert "Maison Aurore" in page.text and "613-555-0142" in page.text  # the change, before approval
            assert (
                'href="/queue"' not in page.text
                and (await client.get("/queue")).headers["location"] == "/partnerships"
            )
            registration, update = re.findall(r'id="request-([0-9a-f-]{36})"', page.text)
            csrf = csrf_of(page)

            taken = await client.post(f"/partnerships/requests/{registration}/take", data={"csrf": csrf})
            assert taken.headers["location"] == "/partnerships?notice=done"
            approved = await client.post(
                f"/partnerships/requests/{registration}/approve", data={"csrf": csrf, "public": "true"}
            )
            assert approved.headers["location"] == "/partnerships?notice=done"
            await client.post(f"/partnerships/requests/{update}/take", data={"csrf": csrf})
            blank = await client.post(
                f"/partnerships/requests/{update}/reject", data={"csrf": csrf, "reason": " "}
            )
            assert blank.headers["location"] == "/partnerships?notice=error.invalid"
            declined = await client.post(
                f"/partnerships/requests/{update}/reject",
                data={"csrf": csrf, "reason": "Not the listing's owner"},
            )
            assert declined.headers["location"] == "/partnerships?notice=done"
            assert "Maison Aurore" not in (await client.get("/partnerships")).text

            forged = await client.post(f"/partnerships/requests/{update}/take", data={"csrf": "nope"})
            assert "error.csrf" in forged.headers["location"]
            await signed_in(other, specialist)
            refused = await other.get("/partnerships")
            assert refused.headers["location"] == "/queue?notice=error.forbidden"
        async with httpx.AsyncClient(base_url=referral_url) as public:
            assert (await public.get("/hsds/organizations", params={"search": "Maison Aurore"})).json()[
                "total_items"
            ] == 1
            assert "613-555-0142" not in (await public.get("/hsds/services/corath-ottawa")).text  # declined


async def test_the_page_shows_the_providers_answer_and_offers_a_public_address_only_when_it_agreed(
    settings: ServiceSettings,
) -> None:
    token = await person_token(settings, "Paula Partnerships", Role.PARTNERSHIPS)
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    street = (
        "organization_name=CORATH&city=Ottawa&province=ON&postal_code=K1P+1J1&address_1=9+Rue+Cach%C3%A9e"
    )
    async with served(build_referral(settings)) as [referral_url]:
        async with httpx.AsyncClient(base_url=referral_url) as public:
            for body in (f"kind=registration&{street}&address_public=true", f"kind=registration&{street}"):
                assert (
                    await public.post("/providers/register", content=body, headers=FORM)
                ).status_code == 200
        app = build_workbench(workbench_settings(settings, {"referral": referral_url}))
        async with running(app), http_client(app) as client:
            await client.post("/signin", data={**await _signin_fields(client), "token": token})
            page = await client.get("/partnerships")
            agreed, refused = re.findall(r'id="request-([0-9a-f-]{36})"', page.text)
            for request_id in (agreed, refused):
                await client.post(f"/partnerships/requests/{request_id}/take", data={"csrf": csrf_of(page)})
            page = await client.get("/partnerships")
            sections = dict(re.findall(r'id="request-([0-9a-f-]{36})"(.*?)</section>', page.text, re.S))
            assert "The provider agreed that its street address be public." in sections[agreed]
            assert f'id="address-public-{agreed}"' in sections[agreed]
            assert "The provider did not agree that its street address be public" in sections[refused]
            assert 'name="address_public"' not in sections[refused]
            forced = await client.post(
                f"/partnerships/requests/{refused}/approve",
                data={"csrf": csrf_of(page), "address_public": "true"},
            )
            assert "notice=done" not in forced.headers["location"]
        async with httpx.AsyncClient(base_url=referral_url) as public:
            assert "Cachée" not in (await public.get("/hsds/organizations", params={"search": "CORATH"})).text


async def test_declining_a_request_that_already_hid_an_address_says_the_listing_stays_restricted(
    settings: ServiceSettings,
) -> None:
    token = await person_token(settings, "Paula Partnerships", Role.PARTNERSHIPS)
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    async with served(build_referral(settings)) as [referral_url]:
        async with httpx.AsyncClient(base_url=referral_url) as public:
            body = "kind=update&organization_id=corath&organization_name=CORATH&hide_address=true"
            assert (await public.post("/providers/register", content=body, headers=FORM)).status_code == 200
        connection = await connect(settings.database_url, "referral")
        try:
            await provider_requests.apply_restrictions(connection)  # if referral's own pass has not yet
            assert await connection.fetchval(
                "SELECT restrictions_applied_at IS NOT NULL FROM provider_requests"
            )
        finally:
            await connection.close()
        app = build_workbench(workbench_settings(settings, {"referral": referral_url}))
        async with running(app), http_client(app) as client:
            await client.post("/signin", data={**await _signin_fields(client), "token": token})
            page = await client.get("/partnerships")
            assert "declining does not undo it" in page.text
            [request_id] = re.findall(r'id="request-([0-9a-f-]{36})"', page.text)
            await client.post(f"/partnerships/requests/{request_id}/take", data={"csrf": csrf_of(page)})
            declined = await client.post(
                f"/partnerships/requests/{request_id}/reject",
                data={"csrf": csrf_of(page), "reason": "Not theirs"},
            )
            assert declined.headers["location"] == "/partnerships?notice=partners.declined_restricted"
            shown = await client.get(declined.headers["location"])
            assert "declining does not undo that: restore it" in shown.text


async def test_the_page_lists_providers_asked_to_confirm_and_records_a_confirmation_in_french(
    settings: ServiceSettings,
) -> None:
    token = await person_token(settings, "Paula Partnerships", Role.PARTNERSHIPS)
    assert not (await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=3650))).errors
    connection = await connect(settings.database_url, "referral")
    try:
        later = date.today() + timedelta(days=800)
        assert await provider_requests.reconfirmation_round(
            connection, timedelta(days=365), timedelta(days=30), later
        )
    finally:
        await connection.close()
    async with served(build_referral(settings)) as [referral_url]:
        app = build_workbench(workbench_settings(settings, {"referral": referral_url}))
        async with running(app), http_client(app) as client:
            await client.post("/signin", data={**await _signin_fields(client, "fr"), "token": token})
            page = await client.get("/partnerships")
            assert (
                "Fournisseurs invités à confirmer leurs renseignements" in page.text
                and 'lang="fr"' in page.text
            )
            assert '<th scope="row">corath</th>' in page.text
            confirmed = await client.post(
                "/partnerships/reconfirmations/corath/confirm", data={"csrf": csrf_of(page)}
            )
            assert confirmed.headers["location"] == "/partnerships?notice=done"
            assert '<th scope="row">corath</th>' not in (await client.get("/partnerships")).text
            odd = await client.post(
                "/partnerships/reconfirmations/..%2F..%2Fx/confirm", data={"csrf": csrf_of(page)}
            )
            assert odd.status_code in (303, 404)


async def _signin_fields(client: httpx.AsyncClient, language: str = "en") -> dict[str, str]:
    page = await client.get("/signin")
    return {"lang": language, "signin_csrf": page.text.split('name="signin_csrf" value="')[1].split('"')[0]}
