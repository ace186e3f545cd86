"""Intake's casework API on a real service and database: who holds a tip, and opening it on purpose."""

import uuid
from typing import Any

import asyncpg
import pytest

from services.common.auth import Role, add_staff, create_token
from services.common.settings import ServiceSettings
from services.intake.app import build_app
from tests.factories import CONTACT, NAMED_PERSON, NARRATIVE, tip_body
from tests.helpers import every_stored_text, fetch, http_client, running

HANDOVER_NOTE = "Caller Ginette Lapointe prefers evenings; her sister answers the phone."


async def person_with_token(
    settings: ServiceSettings, name: str, role: Role
) -> tuple[uuid.UUID, dict[str, str]]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        person = await add_staff(connection, name, [role])
        _, token = await create_token(connection, role, "test", person_id=person)
    finally:
        await connection.close()
    return person, {"authorization": f"Bearer {token}"}


async def submitted_tip(client: Any, specialist: dict[str, str]) -> str:
    answer = await client.post("/v1/tips", json=tip_body(channel="phone"), headers=specialist)
    assert answer.status_code == 202
    return str(answer.json()["tip_id"])


async def test_a_specialist_opens_a_tip_they_hold_and_the_opening_is_audited_with_its_purpose(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    alice, as_alice = await person_with_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client:
        tip_id = await submitted_tip(client, as_alice)
        opening = {"purpose": "assess_risk", "parts": ["narrative", "contact", "named_persons"]}
        before = await client.post(f"/v1/casework/tips/{tip_id}/openings", json=opening, headers=as_alice)
        assert before.status_code == 403
        assert before.json()["rule"] == "take_the_tip_first"

        taken = await client.put(f"/v1/casework/tips/{tip_id}/assignment", json={}, headers=as_alice)
        assert taken.json() == {"tip_id": tip_id, "person_id": str(alice)}
        opened = await client.post(f"/v1/casework/tips/{tip_id}/openings", json=opening, headers=as_alice)
        assert opened.status_code == 200
        assert opened.headers["cache-control"] == "no-store"
        body = opened.json()
        assert body["narrative"] == NARRATIVE
        assert body["contact"]["phone"] == CONTACT["phone"]
        assert [person["name"] for person in body["named_persons"]] == [NAMED_PERSON]

        case = (await client.get(f"/v1/casework/tips/{tip_id}", headers=as_alice)).json()
    assert case["holder"]["is_you"] is True
    assert case["sealed_parts"] == {"narrative": True, "contact": True, "named_persons": 1}
    assert [(entry["person"], entry["purpose"], entry["fields"]) for entry in case["openings"]] == [
        ("Alice Specialist", "assess_risk", ["narrative", "contact", "named_persons"])
    ]
    assert NARRATIVE not in str(case)
    audit = await fetch(
        settings,
        "SELECT service, purpose, fields, outcome FROM keys.unseal_audit WHERE tip_id = $1 AND purpose LIKE 'staff_open:%'",
        uuid.UUID(tip_id),
    )
    assert [(row["service"], row["purpose"], row["outcome"]) for row in audit] == [
        ("intake", "staff_open:assess_risk", "unsealed")
    ]


async def test_a_specialist_cannot_read_open_or_take_a_tip_another_person_holds(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    _, as_alice = await person_with_token(settings, "Alice Specialist", Role.SPECIALIST)
    bob, as_bob = await person_with_token(settings, "Bob Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client:
        tip_id = await submitted_tip(client, as_alice)
        assert (await client.get(f"/v1/casework/tips/{tip_id}", headers=as_bob)).status_code == 200
        await client.put(f"/v1/casework/tips/{tip_id}/assignment", json={}, headers=as_alice)

        read = await client.get(f"/v1/casework/tips/{tip_id}", headers=as_bob)
        opened = await client.post(
            f"/v1/casework/tips/{tip_id}/openings",
            json={"purpose": "call_back", "parts": ["contact"]},
            headers=as_bob,
        )
        taken = await client.put(f"/v1/casework/tips/{tip_id}/assignment", json={}, headers=as_bob)
        released = await client.post(f"/v1/casework/tips/{tip_id}/release", json={}, headers=as_bob)
        given = await client.put(
            f"/v1/casework/tips/{tip_id}/assignment", json={"person_id": str(bob)}, headers=as_alice
        )
        listed = (await client.get("/v1/casework/assignments", headers=as_bob)).json()["assignments"]
    assert [answer.status_code for answer in (read, opened, taken, released, given)] == [403] * 5
    assert [entry["rule"] for entry in (read.json(), opened.json())] == ["held_by_another_person"] * 2
    assert listed == [
        {"tip_id": tip_id, "reference": listed[0]["reference"], "is_you": False, "person_id": None,
         "display_name": None, "assigned_at": listed[0]["assigned_at"]}
    ]  # fmt: skip
    assert await fetch(settings, "SELECT 1 FROM intake.openings") == []


async def test_a_supervisor_reassigns_and_a_shift_handover_returns_the_tips_with_a_sealed_note(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    alice, as_alice = await person_with_token(settings, "Alice Specialist", Role.SPECIALIST)
    bob, as_bob = await person_with_token(settings, "Bob Specialist", Role.SPECIALIST)
    _, as_supervisor = await person_with_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    async with running(app), http_client(app) as client:
        first, second = [await submitted_tip(client, as_alice) for _ in range(2)]
        for tip_id in (first, second):
            answer = await client.put(
                f"/v1/casework/tips/{tip_id}/assignment", json={"person_id": str(bob)}, headers=as_supervisor
            )
            assert answer.status_code == 200
        assert (await client.get(f"/v1/casework/tips/{first}", headers=as_alice)).status_code == 403

        handed = await client.post("/v1/casework/handover", json={"note": HANDOVER_NOTE}, headers=as_bob)
        assert sorted(handed.json()["released"]) == sorted([first, second])
        assert (await client.get("/v1/casework/assignments", headers=as_supervisor)).json()[
            "assignments"
        ] == []

        await client.put(f"/v1/casework/tips/{first}/assignment", json={}, headers=as_alice)
        notes = await client.post(
            f"/v1/casework/tips/{first}/openings",
            json={"purpose": "plan_response", "parts": ["handover_notes"]},
            headers=as_alice,
        )
        case = (await client.get(f"/v1/casework/tips/{first}", headers=as_alice)).json()
    assert notes.json()["handover_notes"] == [
        {"at": notes.json()["handover_notes"][0]["at"], "by": "Bob Specialist", "note": HANDOVER_NOTE}
    ]
    assert [
        (entry["action"], entry["person"], entry["with_note"]) for entry in case["assignment_history"]
    ] == [
        ("assigned", "Bob Specialist", False),
        ("handed_over", "Bob Specialist", True),
        ("taken", "Alice Specialist", False),
    ]
    assert alice != bob
    assert HANDOVER_NOTE not in await every_stored_text(settings.database_url)


@pytest.mark.parametrize("table", ["openings", "assignment_history"])
async def test_the_casework_audit_refuses_changes_even_from_the_intake_role(
    settings: ServiceSettings, table: str
) -> None:
    app = build_app(settings)
    _, as_alice = await person_with_token(settings, "Alice Specialist", Role.SPECIALIST)
    async with running(app), http_client(app) as client:
        tip_id = await submitted_tip(client, as_alice)
        await client.put(f"/v1/casework/tips/{tip_id}/assignment", json={}, headers=as_alice)
        await client.post(
            f"/v1/casework/tips/{tip_id}/openings", json={"purpose": "assess_risk", "parts": ["narrative"]},
            headers=as_alice,
        )  # fmt: skip
        pool = app.state.runtime.pool
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(f"DELETE FROM intake.{table}")
