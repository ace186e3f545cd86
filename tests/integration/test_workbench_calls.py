"""Taking a call in the workbench, and a returning caller served by someone else, over HTTP on a
real intake, broker and database.
"""

import re
import uuid

import httpx

from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.intake.app import build_app as build_intake
from services.workbench.app import build_app as build_workbench
from tests.factories import CONTACT, NARRATIVE
from tests.helpers import fetch, http_client, running
from tests.integration.test_workbench import person_token, served, signed_in, workbench_settings

LATER_NEWS = "Elle sera déplacée à Montréal ce soir par Kevin Roy."


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def call_form(page: str) -> dict[str, str | list[str]]:
    return {
        "csrf": hidden(page, "csrf"), "started_at": hidden(page, "started_at"),
        "idempotency_key": hidden(page, "idempotency_key"), "channel": "phone", "language": "fr",
        "reporter_role": "family_friend", "anonymous": "no", "contact_phone": CONTACT["phone"],
        "consent_law_enforcement": "yes", "consent_share_identity": "no", "consent_service_referral": "yes",
        "consent_statistics": "not_asked", "country": "CA", "province": "QC", "city": "Joliette",
        "narrative": NARRATIVE, "minor_involved": "yes", "imminent_danger": "unknown", "victim_age": "15",
        "trafficking_types": ["sex"], "needs": ["emergency_shelter"], "interpreter_language": "es",
        "safe_to_call_back": "no", "safe_to_leave_message": "no", "heard_via": "school",
    }  # fmt: skip


async def test_a_specialist_records_a_call_holds_its_case_and_a_colleague_attaches_the_callers_news(
    settings: ServiceSettings,
) -> None:
    alice = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    bob = await person_token(settings, "Bob Specialist", Role.SPECIALIST)
    async with served(build_intake(settings)) as [intake_url]:
        app = build_workbench(workbench_settings(settings, {"intake": intake_url}))
        async with running(app), http_client(app) as as_alice, http_client(app) as as_bob:
            await signed_in(as_alice, alice)
            await signed_in(as_bob, bob)
            form = call_form((await as_alice.get("/calls/new")).text)
            recorded = await as_alice.post("/calls", data=form)
            again = await as_alice.post("/calls", data=form)  # sent twice: one tip

            assert recorded.status_code == 201, recorded.text
            assert recorded.headers["cache-control"] == "no-store"
            reference = re.search(r'id="call-reference">([^<]+)<', recorded.text).group(1)  # type: ignore[union-attr]
            code = re.search(r'id="call-code">([^<]+)<', recorded.text).group(1)  # type: ignore[union-attr]
            assert reference in again.text
            tip_id = re.search(r'href="/cases/([0-9a-f-]{36})"', recorded.text).group(1)  # type: ignore[union-attr]

            returning = await as_bob.get("/calls/returning")
            news = {"csrf": hidden(returning.text, "csrf"), "reference": reference, "code": code,
                    "channel": "phone", "narrative": LATER_NEWS, "imminent_danger": "yes"}  # fmt: skip
            attached = await as_bob.post("/calls/returning", data=news)
            reused = await as_bob.post("/calls/returning", data=news)
            held_by_alice = await as_bob.get(f"/cases/{tip_id}")
            case = await as_alice.get(f"/cases/{tip_id}")

        async with httpx.AsyncClient(base_url=intake_url) as intake:
            api_for_bob = await intake.get(
                f"/v1/casework/tips/{tip_id}", headers={"authorization": f"Bearer {bob}"}
            )
            case_file = (
                await intake.get(f"/v1/casework/tips/{tip_id}", headers={"authorization": f"Bearer {alice}"})
            ).json()

    assert len(await fetch(settings, "SELECT 1 FROM intake.tips")) == 1
    assert attached.status_code == 201, attached.text
    new_code = re.search(r'id="returning-code">([^<]+)<', attached.text).group(1)  # type: ignore[union-attr]
    assert new_code != code
    assert NARRATIVE not in attached.text and "Joliette" not in attached.text  # nothing of the tip shown
    assert reused.status_code == 403 and 'id="returning-error"' in reused.text  # the old code is spent
    assert held_by_alice.status_code == 403 and api_for_bob.status_code == 403
    assert case.status_code == 200 and 'id="call"' in case.text
    assert "<td>Not asked</td>" in case.text, "statistics not asked is not shown as a no"

    assert case_file["holder"]["display_name"] == "Alice Specialist" and case_file["channel"] == "phone"
    call = case_file["call"]
    assert call["heard_via"] == "school" and call["interpreter_language"] == "es"
    assert call["safe_to_call_back"] is False and call["recorded_by"] == "Alice Specialist"
    assert call["started_at"] <= call["ended_at"]
    assert case_file["consents"][0]["statistics"] is None and case_file["consents"][0]["law_enforcement"]
    assert case_file["facts"]["assessment"]["minor_involved"] == "yes"
    assert [(entry["attached_by"], entry["attached_via"]) for entry in case_file["supplements"]] == [
        ("Bob Specialist", "phone")
    ]
    stored = await fetch(
        settings, "SELECT heard_via, recorded_by IS NOT NULL AS by_someone FROM intake.calls WHERE tip_id = $1",
        uuid.UUID(tip_id),
    )  # fmt: skip
    assert [tuple(row) for row in stored] == [("school", True)]


async def test_a_refused_call_comes_back_with_what_was_typed_and_the_field_named(
    settings: ServiceSettings,
) -> None:
    alice = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with served(build_intake(settings)) as [intake_url]:
        app = build_workbench(workbench_settings(settings, {"intake": intake_url}))
        async with running(app), http_client(app) as client:
            await signed_in(client, alice)
            form = {**call_form((await client.get("/calls/new")).text), "country": "ZZ"}
            refused = await client.post("/calls", data=form)
    assert refused.status_code == 422
    assert 'id="call-errors"' in refused.text and "location.country" in refused.text
    assert NARRATIVE.replace("'", "&#39;") in refused.text  # the narrative typed is not lost
    assert await fetch(settings, "SELECT 1 FROM intake.tips") == []
