"""Supervisors act on response plans and override urgencies; supplements re-triage a tip."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from schemas import topics
from schemas.envelope import EventBase
from schemas.intake import TipReceivedV1
from services.common.auth import Role
from services.common.sealing import DataKey
from services.common.settings import ServiceSettings
from services.triage.app import build_app as build_triage
from tests.factories import tip_received, tip_supplemented
from tests.helpers import (
    event_types,
    eventually,
    every_stored_text,
    fetch,
    http_client,
    new_data_key,
    publish_events,
    published_for_tip,
    running,
    staff_token,
)

URGENT = {"assessment": {"minor_involved": "yes", "imminent_danger": "no", "trafficking_types": ["labour"]}}
NOTE = "Spoke again with Marie-Claude Tremblay: the worker is 24, not a minor."


class Desk:
    """The triage service running on the test's broker and database, and its staff."""

    def __init__(self, settings: ServiceSettings, client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
        self.settings = settings
        self.client = client
        self.tokens = tokens

    def as_(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def publish(self, *events: EventBase) -> None:
        await publish_events(self.settings.kafka_bootstrap_servers, *events)

    async def new_key(self) -> DataKey:
        return await new_data_key(self.settings)

    async def events(self, topic: str, tip: TipReceivedV1, done: Any) -> list[dict[str, Any]]:
        records = await published_for_tip(
            self.settings.kafka_bootstrap_servers,
            topic,
            str(tip.tip_id),
            lambda rs: done([r.json() for r in rs]),
        )
        return [record.json() for record in records]

    async def plan_of(self, tip: TipReceivedV1) -> dict[str, Any]:
        async def open_plan() -> dict[str, Any] | None:
            answer = await self.client.get("/v1/plans", headers=self.as_(Role.SUPERVISOR))
            return next((plan for plan in answer.json()["plans"] if plan["tip_id"] == str(tip.tip_id)), None)

        plan = await eventually(open_plan)
        assert plan is not None, "the tip's plan never opened"
        return plan


@pytest.fixture
async def desk(settings: ServiceSettings) -> AsyncIterator[Desk]:
    app = build_triage(settings)
    async with running(app), http_client(app) as client:
        tokens = {role: await staff_token(settings.database_url, role) for role in Role}
        yield Desk(settings, client, tokens)


async def test_open_plans_are_listed_soonest_deadline_first_and_only_supervisors_act_on_them(
    desk: Desk,
) -> None:
    routine, urgent = tip_received(), tip_received(**URGENT)
    await desk.publish(routine, urgent)
    await desk.plan_of(routine)
    await desk.plan_of(urgent)

    listed = (await desk.client.get("/v1/plans", headers=desk.as_(Role.SPECIALIST))).json()["plans"]
    assert [plan["tip_id"] for plan in listed] == [str(urgent.tip_id), str(routine.tip_id)]
    assert listed[0]["steps"][0]["title"]["fr"] == "Aviser le superviseur de garde"
    plan_id = listed[0]["plan_id"]

    assert (await desk.client.get("/v1/plans")).status_code == 401
    refused = await desk.client.post(f"/v1/plans/{plan_id}/acknowledge", headers=desk.as_(Role.SPECIALIST))
    assert refused.status_code == 403


async def test_acknowledging_and_completing_every_step_completes_the_plan_and_publishes_each_action(
    desk: Desk,
) -> None:
    urgent = tip_received(**URGENT)
    await desk.publish(urgent)
    plan_id = (await desk.plan_of(urgent))["plan_id"]
    supervisor = desk.as_(Role.SUPERVISOR)

    acknowledged = (await desk.client.post(f"/v1/plans/{plan_id}/acknowledge", headers=supervisor)).json()
    assert acknowledged["acknowledged_at"] is not None
    assert (acknowledged["steps"][0]["status"], acknowledged["steps"][0]["outcome"]) == (
        "done",
        "acknowledged",
    )

    wrong = await desk.client.post(
        f"/v1/plans/{plan_id}/steps/safety_assessment/complete", json={"outcome": "fine"}, headers=supervisor
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "outcome"
    assert "safety_plan_made" in wrong.json()["errors"][0]["allowed"]

    for step, outcome in (
        ("safety_assessment", "safety_plan_made"),
        ("evaluate_mandatory_reporting", "report_required"),
        ("emergency_referral", "referred"),
    ):
        answer = await desk.client.post(
            f"/v1/plans/{plan_id}/steps/{step}/complete", json={"outcome": outcome}, headers=supervisor
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    again = await desk.client.post(
        f"/v1/plans/{plan_id}/steps/emergency_referral/complete",
        json={"outcome": "referred"},
        headers=supervisor,
    )
    assert again.status_code == 409
    listed = (await desk.client.get("/v1/plans", headers=supervisor)).json()["plans"]
    assert plan_id not in {plan["plan_id"] for plan in listed}

    events = await desk.events(
        topics.RESPONSE_PLANS, urgent, lambda evs: "response_plan.completed" in event_types(evs)
    )
    assert event_types(events) == [
        "response_plan.started", "response_plan.acknowledged", *["response_plan.step_completed"] * 4,
        "response_plan.completed",
    ]  # fmt: skip
    assert all(event["on_time"] for event in events if event["event_type"] == "response_plan.step_completed")
    actions = await fetch(desk.settings, "SELECT action, step FROM triage.plan_actions ORDER BY action_id")
    assert [row["action"] for row in actions] == ["acknowledged", *["step_completed"] * 4]


async def test_an_override_is_audited_with_a_sealed_note_republished_and_replaces_the_plan(
    desk: Desk,
) -> None:
    key = await desk.new_key()
    urgent = tip_received(key=key, **URGENT)
    await desk.publish(urgent)
    first_plan = await desk.plan_of(urgent)
    supervisor = desk.as_(Role.SUPERVISOR)
    override = {"urgency": "non_urgent", "reason": "caller_clarified", "note": NOTE}

    assert (
        await desk.client.put(
            f"/v1/tips/{urgent.tip_id}/urgency", json=override, headers=desk.as_(Role.SPECIALIST)
        )
    ).status_code == 403
    no_reason = await desk.client.put(
        f"/v1/tips/{urgent.tip_id}/urgency", json={"urgency": "non_urgent"}, headers=supervisor
    )
    assert no_reason.status_code == 422
    assert {error["field"] for error in no_reason.json()["errors"]} == {"reason", "note"}

    answer = await desk.client.put(f"/v1/tips/{urgent.tip_id}/urgency", json=override, headers=supervisor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["revision"] == 2
    same = await desk.client.put(f"/v1/tips/{urgent.tip_id}/urgency", json=override, headers=supervisor)
    assert same.status_code == 409

    triaged = await desk.events(topics.TIPS_TRIAGED, urgent, lambda evs: len(evs) >= 2)
    revised = triaged[-1]
    assert (revised["revision"], revised["trigger"], revised["urgency"]) == (2, "override", "non_urgent")
    assert revised["override"]["previous_urgency"] == "urgent"
    assert revised["reasons"][0]["code"] == "override.caller_clarified"
    assert "Tremblay" not in str(triaged)

    plans = await desk.events(topics.RESPONSE_PLANS, urgent, lambda evs: len(evs) >= 3)
    superseded = next(event for event in plans if event["event_type"] == "response_plan.superseded")
    restarted = plans[-1] if plans[-1]["event_type"] == "response_plan.started" else plans[-2]
    assert superseded["plan_id"] == first_plan["plan_id"]
    assert superseded["superseded_by"] == restarted["plan_id"]
    assert [step["step"] for step in restarted["steps"]] == ["supervisor_review"]
    assert (await desk.plan_of(urgent))["plan_id"] == restarted["plan_id"]

    [audit] = await fetch(desk.settings, "SELECT * FROM triage.urgency_overrides")
    assert (audit["from_urgency"], audit["to_urgency"], audit["staff_role"]) == (
        "urgent",
        "non_urgent",
        "supervisor",
    )
    assert audit["sealed_note"].startswith("sealed.v1.")
    assert "Tremblay" not in await every_stored_text(desk.settings.database_url)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await fetch(desk.settings, "UPDATE triage.urgency_overrides SET to_urgency = 'urgent'")

    for_supervisor = (await desk.client.get(f"/v1/tips/{urgent.tip_id}/triage", headers=supervisor)).json()
    assert for_supervisor["overrides"][0]["note"] == NOTE
    assert [plan["status"] for plan in for_supervisor["plans"]] == ["open", "superseded"]
    for_specialist = await desk.client.get(
        f"/v1/tips/{urgent.tip_id}/triage", headers=desk.as_(Role.SPECIALIST)
    )
    assert for_specialist.json()["overrides"] is None


async def test_a_supplement_revealing_a_minor_raises_the_tip_to_urgent_and_the_plan_follows(
    desk: Desk,
) -> None:
    key = await desk.new_key()
    routine = tip_received(key=key)
    await desk.publish(routine)
    first_plan = await desk.plan_of(routine)
    assert first_plan["urgency"] == "non_urgent"

    await desk.publish(tip_supplemented(routine, key, narrative="Je l'ai revue hier : elle a 15 ans."))
    triaged = await desk.events(topics.TIPS_TRIAGED, routine, lambda evs: len(evs) >= 2)
    revised = triaged[-1]
    assert (revised["revision"], revised["trigger"], revised["urgency"]) == (2, "supplement", "urgent")
    codes = [reason["code"] for reason in revised["reasons"]]
    assert codes[0] == "supplement.raised_urgency"
    assert "victim_under_18_in_text" in codes
    assert "revue" not in str(triaged)  # reasons quote the lexicon's words and the age, never the rest

    plan = await eventually(lambda: _urgent_plan(desk, routine))
    assert plan, "the plan never followed the tip to urgent"
    assert plan["steps"][0]["step"] == "notify_supervisor"
    assert plan["plan_id"] != first_plan["plan_id"]


async def test_a_supplement_that_overtakes_its_tip_is_counted_when_the_tip_arrives(desk: Desk) -> None:
    routine = tip_received()
    await desk.publish(tip_supplemented(routine, assessment={"imminent_danger": "yes"}))
    stored = await eventually(
        lambda: fetch(desk.settings, "SELECT supplement_id FROM triage.tip_supplements")
    )
    assert stored
    await desk.publish(routine)
    [triaged] = await desk.events(topics.TIPS_TRIAGED, routine, lambda evs: len(evs) >= 1)
    assert (triaged["revision"], triaged["urgency"]) == (1, "urgent")
    assert triaged["facts"]["assessment"]["imminent_danger"] == "yes"


async def _urgent_plan(desk: Desk, tip: TipReceivedV1) -> dict[str, Any] | None:
    plan = await desk.plan_of(tip)
    return plan if plan["urgency"] == "urgent" else None
