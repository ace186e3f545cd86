"""The law-enforcement gate running on the broker: what goes out, to whom, carrying what, and the audit."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lantern.liaison import run_liaison
from lantern.observe import Published
from schemas import topics
from schemas.disclosure import LawEnforcementPackageV2, LawEnforcementPackageV3
from schemas.envelope import EventBase
from schemas.intake import TipReceivedV1
from services.common.agency_keys import AgencyKeys, open_package
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.disclosure.app import build_app as build_disclosure
from tests.factories import (
    CONTACT,
    IDENTIFYING_VALUES,
    NAMED_PERSON,
    NARRATIVE,
    consent_recorded,
    tip_received,
    tip_supplemented,
    tip_triaged,
)
from tests.helpers import (
    event_types,
    eventually,
    every_stored_text,
    fetch,
    http_client,
    new_data_key,
    publish_events,
    published_for_tip,
    read_until,
    running,
    staff_token,
)
from tests.keys import stack_keys

POLICE, PROTECTION = "surete-du-quebec", "dpj-qc"  # the factory's tips are from Joliette, Quebec
APPROVE = {"reason": "consent_confirmed"}
NO_CONSENT = {"consent": {"law_enforcement": False, "share_identity": False}}
MINOR_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"minor_involved": "yes", "trafficking_types": ["sex"]},
}
DANGER_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"imminent_danger": "yes", "trafficking_types": ["labour"]},
}
ORDER = {"statute": "Youth Protection Act (Quebec)", "section": "39", "order_number": "2026-0457"}
# The factory's victim profile and needs: they exist to find services, never for the police without consent.
SERVICES_ONLY = ("temporary_worker", "emergency_shelter", '"languages"', "gender_identity", '"legal"')


@dataclass
class Received:
    """A package as its agency's liaison unit reads it: the record on the topic, opened with its key."""

    record: Published
    package: LawEnforcementPackageV2

    @property
    def value(self) -> bytes:
        return self.package.model_dump_json().encode()

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.value))


class Gate:
    def __init__(
        self,
        settings: ServiceSettings,
        client: httpx.AsyncClient,
        tokens: dict[str, str],
        agency_keys: dict[str, AgencyKeys],
    ) -> None:
        self.settings, self.client, self.tokens, self.agency_keys = settings, client, tokens, agency_keys

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def publish(self, *events: EventBase) -> None:
        await publish_events(self.settings.kafka_bootstrap_servers, *events)

    async def packages(self, agency_id: str, count: int = 1) -> list[Received]:
        records = await read_until(
            self.settings.kafka_bootstrap_servers,
            (topics.agency_topic(agency_id),),
            lambda rs: len(rs) >= count,
        )
        keys = self.agency_keys[agency_id]
        return [
            Received(record, open_package(LawEnforcementPackageV3.model_validate_json(record.value), keys))
            for record in records
        ]

    async def case(self, tip: TipReceivedV1, state: str | None = None) -> dict[str, Any]:
        async def current() -> dict[str, Any] | None:
            answer = await self.client.get(f"/v1/cases/{tip.tip_id}", headers=self.as_("supervisor"))
            if answer.status_code != 200 or (state and answer.json()["state"] != state):
                return None
            return dict(answer.json())

        found = await eventually(current)
        assert found, f"the case never reached {state}"
        return found

    async def disclosures(self, tip: TipReceivedV1, done: Any) -> list[dict[str, Any]]:
        records = await published_for_tip(
            self.settings.kafka_bootstrap_servers, topics.DISCLOSURES, str(tip.tip_id),
            lambda rs: done([r.json() for r in rs]),
        )  # fmt: skip
        return [record.json() for record in records]


@pytest.fixture
async def gate(settings: ServiceSettings, agency_keys: dict[str, AgencyKeys]) -> AsyncIterator[Gate]:
    app = build_disclosure(settings)
    async with running(app), http_client(app) as client:
        tokens = {
            "supervisor": await staff_token(settings.database_url, Role.SUPERVISOR),
            "second_supervisor": await staff_token(settings.database_url, Role.SUPERVISOR),
            "third_supervisor": await staff_token(settings.database_url, Role.SUPERVISOR),
            "specialist": await staff_token(settings.database_url, Role.SPECIALIST),
        }
        yield Gate(settings, client, tokens, agency_keys)


async def test_a_minor_the_specialist_recorded_on_a_call_goes_out_at_once_without_who_called_or_the_profile(
    gate: Gate,
) -> None:
    key = await new_data_key(gate.settings)
    tip = tip_received(key=key, **NO_CONSENT, **MINOR_ON_THE_CALL)
    await gate.publish(tip, tip_triaged(tip, "urgent", minor=True))
    [police] = await gate.packages(POLICE)
    [protection] = await gate.packages(PROTECTION)

    package = police.json()
    assert (package["basis"], package["recipient_kind"]) == ("child_protection", "police")
    assert protection.json()["recipient_kind"] == "child_protection"
    assert package["case_reference"].startswith("LE-")
    content = package["content"]
    assert content["caller_contact"] is None and content["reporter_role"] is None
    assert content["narrative"] is None, "without consent to involve the police, the caller's words stay"
    assert content["suspects"] == [{"name": NAMED_PERSON, "relation": "suspect"}]
    assert content["location"]["city"] == "Joliette"
    assert content["victim_profile"] is None and content["needs"] is None
    assert [approver["role"] for approver in package["approved_by"]] == ["specialist"]
    raw = police.value.decode()
    assert not any(value in raw for value in SERVICES_ONLY)
    assert str(tip.tip_id) not in raw
    assert not any(value in raw for value in (NARRATIVE, *CONTACT.values()))

    # Kept until the agency acknowledges it (a broker that lost it gets it again): ciphertext only.
    kept = await fetch(gate.settings, "SELECT payload FROM disclosure.outbox WHERE scrub_after_send")
    assert kept and all(row["payload"] for row in kept)
    assert not any(value.encode() in row["payload"] for row in kept for value in IDENTIFYING_VALUES)
    stored = await every_stored_text(gate.settings.database_url)
    assert not any(value in stored for value in IDENTIFYING_VALUES)

    queue = (await gate.client.get("/v1/reviews", headers=gate.as_("supervisor"))).json()["reviews"]
    assert [(item["tip_id"], item["kind"]) for item in queue] == [(str(tip.tip_id), "after_forward")]
    reviewed = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=APPROVE, headers=gate.as_("supervisor")
    )
    assert reviewed.json()["state"] == "forwarded"
    assert (await gate.client.get("/v1/reviews", headers=gate.as_("supervisor"))).json()["reviews"] == []
    events = await gate.disclosures(tip, lambda evs: "disclosure.reviewed" in event_types(evs))
    forwarded = [event for event in events if event["event_type"] == "disclosure.forwarded"]
    assert {event["agency_id"] for event in forwarded} == {POLICE, PROTECTION}
    assert all(event["seconds_from_receipt"] >= 0 for event in forwarded)


async def test_a_web_tip_with_a_minor_ticked_waits_in_the_expedited_queue_and_goes_only_once_approved(
    gate: Gate,
) -> None:
    tip = tip_received(**NO_CONSENT, assessment={"minor_involved": "yes", "trafficking_types": ["sex"]})
    await gate.publish(tip, tip_triaged(tip, "urgent", minor=True))
    case = await gate.case(tip, "pending_review")
    assert (case["queue"], case["basis"]) == ("expedited", "child_protection")
    queue = (await gate.client.get("/v1/reviews", headers=gate.as_("supervisor"))).json()["reviews"]
    [waiting] = [item for item in queue if item["tip_id"] == str(tip.tip_id)]
    assert (waiting["kind"], waiting["queue"]) == ("before_forward", "expedited")
    assert await fetch(gate.settings, "SELECT 1 FROM disclosure.packages WHERE tip_id = $1", tip.tip_id) == []

    approved = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json={"reason": "mandatory_ground_confirmed"},
        headers=gate.as_("supervisor"),
    )  # fmt: skip
    assert approved.json()["state"] == "forwarded", approved.text
    [police] = await gate.packages(POLICE)
    package = police.json()
    assert [approver["role"] for approver in package["approved_by"]] == ["supervisor"]
    assert not any(value in police.value.decode() for value in SERVICES_ONLY)


async def test_a_consented_phone_tip_waits_for_a_supervisor_and_names_the_caller_only_with_identity_consent(
    gate: Gate,
) -> None:
    key = await new_data_key(gate.settings)
    named = tip_received(key=key, channel="phone", consent={"law_enforcement": True, "share_identity": True})
    other_key = await new_data_key(gate.settings)
    unnamed = tip_received(
        key=other_key, channel="phone", consent={"law_enforcement": True, "share_identity": False}
    )
    await gate.publish(named, unnamed, tip_triaged(named, "non_urgent"), tip_triaged(unnamed, "non_urgent"))
    await gate.case(named, "pending_review")
    await gate.case(unnamed, "pending_review")

    refused = await gate.client.post(
        f"/v1/cases/{named.tip_id}/approve", json=APPROVE, headers=gate.as_("specialist")
    )
    assert refused.status_code == 403
    for tip in (named, unnamed):
        answer = await gate.client.post(
            f"/v1/cases/{tip.tip_id}/approve", json=APPROVE, headers=gate.as_("supervisor")
        )
        assert answer.json()["state"] == "forwarded", answer.text
    packages = {
        record.json()["content"]["caller_contact"] is not None: record.json()
        for record in await gate.packages(POLICE, 2)
    }
    with_identity, without = packages[True], packages[False]
    assert with_identity["content"]["caller_contact"]["name"] == CONTACT["name"]
    assert with_identity["content"]["narrative"] == [NARRATIVE]
    assert len(with_identity["approved_by"]) == 1
    assert without["content"]["narrative"] == [NARRATIVE]
    assert without["content"]["reporter_role"] is None
    assert "fields.identity_withheld" in str(await gate.disclosures(unnamed, lambda evs: len(evs) >= 1))


async def test_an_approval_without_a_basis_is_refused_with_the_policys_reasons_and_a_repeated_consent_changes_nothing(
    gate: Gate,
) -> None:
    tip = tip_received(**NO_CONSENT)
    await gate.publish(tip, tip_triaged(tip, "non_urgent"))
    assert (await gate.case(tip, "not_forwarded"))["basis"] == "none"
    at_receipt = tip.facts.consent.model_dump()
    await gate.publish(consent_recorded(tip, 1, [], **at_receipt))
    assert await eventually(lambda: fetch(gate.settings, "SELECT 1 FROM disclosure.consent_records"))
    unexplained = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json={}, headers=gate.as_("supervisor")
    )
    assert unexplained.status_code == 422
    assert [error["field"] for error in unexplained.json()["errors"]] == ["reason"]
    answer = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=APPROVE, headers=gate.as_("supervisor")
    )
    assert answer.status_code == 409
    assert answer.json()["reasons"][0]["code"] == "basis.none"
    trail = (await gate.case(tip))["audit"]
    assert [entry["action"] for entry in trail] == ["decided", "approval_refused"]


async def test_a_legal_obligation_needs_a_reference_and_a_second_different_supervisor(gate: Gate) -> None:
    tip = tip_received(**NO_CONSENT)
    await gate.publish(tip, tip_triaged(tip, "non_urgent"))
    await gate.case(tip, "not_forwarded")
    order = {"reason": "legal_obligation", "legal_reference": ORDER}
    first = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=order, headers=gate.as_("supervisor")
    )
    assert first.json() == {
        "tip_id": str(tip.tip_id),
        "state": "pending_review",
        "approvals": 1,
        "approvals_needed": 2,
    }
    again = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=order, headers=gate.as_("supervisor")
    )
    assert again.status_code == 409
    other = {**order, "legal_reference": {**ORDER, "order_number": "2026-9999"}}
    elsewhere = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=other, headers=gate.as_("second_supervisor")
    )
    assert elsewhere.json()["approvals"] == 1, "approvals on different references do not add up"
    second = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json=order, headers=gate.as_("third_supervisor")
    )
    assert second.json()["state"] == "forwarded", second.text
    [package] = [record.json() for record in await gate.packages(POLICE)]
    assert package["basis"] == "legal_obligation"
    assert {key: value for key, value in package["legal_reference"].items() if value} == ORDER
    assert len({approver["person_id"] for approver in package["approved_by"]}) == 2


async def test_withdrawn_consent_cancels_a_pending_consent_forward_but_not_a_mandatory_one(
    gate: Gate,
) -> None:
    by_consent = tip_received(consent={"law_enforcement": True})
    in_danger = tip_received(consent={"law_enforcement": True})
    await gate.publish(
        by_consent,
        in_danger,
        tip_triaged(by_consent, "non_urgent"),
        tip_triaged(in_danger, "non_urgent", danger=True),
    )
    await gate.case(by_consent, "pending_review")
    assert "narrative" in (await gate.case(in_danger, "pending_review"))["fields"]

    await gate.publish(
        consent_recorded(by_consent, 2, ["law_enforcement"]),
        consent_recorded(in_danger, 2, ["law_enforcement"]),
    )
    cancelled = await gate.case(by_consent, "cancelled")
    assert [entry["action"] for entry in cancelled["audit"]][-1] == "forward_cancelled"
    assert "disclosure.cancelled" in event_types(
        await gate.disclosures(by_consent, lambda evs: "disclosure.cancelled" in event_types(evs))
    )
    standing = await eventually(lambda: _after_withdrawal(gate, in_danger))
    assert standing, "the withdrawal was never noted on the case whose mandatory basis stands"
    assert standing["state"] == "pending_review" and standing["basis"] == "imminent_danger"
    assert "narrative" not in standing["fields"]
    late = await gate.client.post(
        f"/v1/cases/{by_consent.tip_id}/approve", json=APPROVE, headers=gate.as_("supervisor")
    )
    assert late.status_code == 409


async def test_a_supplement_to_a_forwarded_case_waits_for_a_supervisor_then_reaches_the_same_agency(
    gate: Gate,
) -> None:
    key = await new_data_key(gate.settings)
    tip = tip_received(key=key, consent={"law_enforcement": True}, **DANGER_ON_THE_CALL)
    await gate.publish(tip, tip_triaged(tip, "urgent", danger=True))
    [first] = [record.json() for record in await gate.packages(POLICE)]
    await _approve(gate, tip)
    await gate.publish(tip_supplemented(tip, key, narrative="Ils partent pour Montréal ce soir."))
    assert await eventually(lambda: _changes_waiting(gate, tip)), "the supplement never waited for review"
    await _approve(gate, tip)
    second = (await gate.packages(POLICE, 2))[1].json()
    assert second["supplementary_to"] == first["package_id"]
    assert second["case_reference"] == first["case_reference"]
    assert second["content"]["narrative"] == ["Ils partent pour Montréal ce soir."]

    await gate.publish(consent_recorded(tip, 2, ["law_enforcement"]))
    await gate.case(tip, "forwarded")
    assert await eventually(
        lambda: fetch(gate.settings, "SELECT 1 FROM disclosure.consent_records WHERE version = 2")
    ), "the withdrawal of consent was never recorded"
    await gate.publish(tip_supplemented(tip, key, narrative="Il a changé de numéro."))
    assert await eventually(lambda: _changes_waiting(gate, tip)), "the supplement never waited for review"
    await _approve(gate, tip)
    third = (await gate.packages(POLICE, 3))[2].json()
    assert third["supplementary_to"] == first["package_id"]
    assert third["basis"] == "imminent_danger", "the mandatory basis still holds"
    assert third["content"]["narrative"] is None, "without police consent now, the caller's words stay"


async def test_the_liaison_acknowledgement_is_recorded_as_the_packages_delivery(
    gate: Gate, tmp_path: Any
) -> None:
    tip = tip_received(consent={"law_enforcement": True}, **DANGER_ON_THE_CALL)
    await gate.publish(tip, tip_triaged(tip, "urgent", danger=True))
    shown: list[str] = []
    count = await run_liaison(
        gate.settings.kafka_bootstrap_servers, gate.agency_keys[POLICE], stack_keys().verifier(), tmp_path / "inbox", shown.append,
        shown.append,
        max_packages=1, idle_timeout=20,
    )  # fmt: skip
    assert count == 1
    [stored] = list((tmp_path / "inbox").iterdir())
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    events = await gate.disclosures(tip, lambda evs: "disclosure.acknowledged" in event_types(evs))
    assert next(e for e in events if e["event_type"] == "disclosure.acknowledged")["agency_id"] == POLICE
    [package] = (await gate.case(tip))["packages"]
    assert package["acknowledged_at"] is not None


async def _after_withdrawal(gate: Gate, tip: TipReceivedV1) -> dict[str, Any] | None:
    case = await gate.case(tip)
    actions = [entry["action"] for entry in case["audit"]]
    return case if "consent_withdrawn_mandatory_basis_stands" in actions else None


async def _approve(gate: Gate, tip: TipReceivedV1) -> None:
    answer = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/approve", json={"reason": "changes_sent_on"}, headers=gate.as_("supervisor")
    )
    assert answer.status_code == 200, answer.text


async def _changes_waiting(gate: Gate, tip: TipReceivedV1) -> bool:
    case = await gate.case(tip)
    return bool(case["pending_supplements"])


async def test_a_follow_up_moves_a_forwarded_phone_case_from_ottawa_to_montreal_after_review(
    gate: Gate,
) -> None:
    key = await new_data_key(gate.settings)
    ottawa = {"country": "CA", "province": "ON", "city": "Ottawa"}
    tip = tip_received(key=key, location=ottawa, **NO_CONSENT, **DANGER_ON_THE_CALL)
    await gate.publish(tip, tip_triaged(tip, "urgent", danger=True))
    [first] = [record.json() for record in await gate.packages("ottawa-police-htu")]
    await _approve(gate, tip)

    follow_up = tip_supplemented(
        tip,
        key,
        narrative="Ils l'ont amenée à Montréal.",
        location={"country": "CA", "province": "QC", "city": "Montréal"},
    )
    moved = tip_triaged(tip, "urgent", danger=True, revision=2, facts=follow_up.update.applied_to(tip.facts))
    await gate.publish(follow_up, moved)
    assert await eventually(lambda: _changes_waiting(gate, tip)), "the supplement never waited for review"

    async def revised() -> dict[str, Any] | None:
        case = await gate.case(tip, "forwarded")
        return case if case["triage_revision"] == 2 else None

    case = await eventually(revised)
    assert case is not None, "the revision that moves the incident never reached the case"
    assert "location.changed" in case["review_reasons"] and case["queue"] == "expedited"
    assert len(case["packages"]) == 1, "nothing moves before a supervisor approves"

    await _approve(gate, tip)

    [montreal] = [record.json() for record in await gate.packages("spvm")]
    assert montreal["supplementary_to"] is None and montreal["basis"] == "imminent_danger"
    assert montreal["content"]["location"]["city"] == "Montréal"
    second = (await gate.packages("ottawa-police-htu", 2))[1].json()
    assert second["supplementary_to"] == first["package_id"]
    assert second["moved_to"]["agencies"] == ["spvm"]


async def test_a_declined_case_stays_declined_on_new_information_until_a_supervisor_reopens_or_keeps_it(
    gate: Gate,
) -> None:
    tip = tip_received(consent={"law_enforcement": True})
    await gate.publish(tip, tip_triaged(tip, "non_urgent"))
    await gate.case(tip, "pending_review")
    declined = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/decline", json={"reason": "caller_safety"}, headers=gate.as_("supervisor")
    )
    assert declined.json()["state"] == "declined"

    await gate.publish(tip_triaged(tip, "urgent", minor=True, revision=2))

    async def queued_again() -> dict[str, Any] | None:
        case = await gate.case(tip, "declined")
        return case if case["queue"] == "expedited" else None

    case = await eventually(queued_again)
    assert case and "ground.child_protection" in case["review_reasons"] and case["packages"] == []
    queue = (await gate.client.get("/v1/reviews", headers=gate.as_("supervisor"))).json()["reviews"]
    assert [item["kind"] for item in queue if item["tip_id"] == str(tip.tip_id)] == ["changes"]
    wrong = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/keep", json={"reason": "because"}, headers=gate.as_("supervisor")
    )
    assert wrong.status_code == 422 and [error["field"] for error in wrong.json()["errors"]] == ["reason"]

    reopened = await gate.client.post(
        f"/v1/cases/{tip.tip_id}/reopen",
        json={"reason": "new_information"},
        headers=gate.as_("second_supervisor"),
    )
    assert reopened.json()["state"] == "pending_review", reopened.text
    trail = [(entry["action"], entry["actor"].split(":")[0]) for entry in (await gate.case(tip))["audit"]]
    assert ("declined", "supervisor") in trail and ("queued_for_review", "system") in trail
    assert ("reopened", "supervisor") in trail
