"""Tips through the running system to the agencies' topics, as a liaison unit sees them."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import httpx
import pytest

from lantern.agency import key_path
from lantern.launcher import LANTERN, LaunchedStack
from lantern.observe import TopicReader
from schemas.disclosure import LawEnforcementPackageV3
from schemas.topics import agency_topic
from services.common.agency_keys import AgencyKeys, open_package
from tests.factories import CONTACT, NARRATIVE, tip_body
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
APPROVE = {"reason": "consent_confirmed"}
OTTAWA = {"country": "CA", "province": "ON", "city": "Ottawa"}
POLICE = "ottawa-police-htu"
NO_CONSENT = {"law_enforcement": False, "share_identity": False, "service_referral": True, "statistics": True}
MINOR = {"minor_involved": "yes", "trafficking_types": ["sex"]}
PROFILE = {"age": 16, "gender_identity": "two_spirit", "languages": ["oj", "en"], "indigenous": True,
           "status_in_canada": "refugee_claimant"}  # fmt: skip
# What the victim profile and needs would put in a package: they exist to find services (seed 003).
FOR_SERVICES_ONLY = (
    "two_spirit",
    "refugee_claimant",
    '"oj"',
    '"indigenous"',
    "emergency_shelter",
    "temporary_worker",
)


class Desk:
    def __init__(self, stack: LaunchedStack) -> None:
        self.endpoints = stack.endpoints
        self.tokens = json.loads((stack.home / "dev-tokens.json").read_text())
        self.intake = httpx.AsyncClient(base_url=self.endpoints["intake_url"], timeout=30)
        self.disclosure = httpx.AsyncClient(base_url=self.endpoints["services"]["disclosure"], timeout=30)

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def submit(self, role: str | None = None, **body: Any) -> dict[str, Any]:
        answer = await self.intake.post(
            "/v1/tips", json=tip_body(location=OTTAWA, **body), headers=self.as_(role) if role else None
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    async def case(self, tip: dict[str, Any], state: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            answer = await self.disclosure.get(f"/v1/cases/{tip['tip_id']}", headers=self.as_("supervisor"))
            return answer.json() if answer.status_code == 200 and answer.json()["state"] == state else None

        found = await eventually(reached, timeout=30)
        assert found, f"the case of {tip['reference']} never reached {state}"
        return dict(found)


async def police_packages(stack: LaunchedStack, done: Any) -> list[dict[str, Any]]:
    """The police's packages as they travel (sealed, routing fields in clear) and as the police open
    them, with the key `lantern up` made for it."""
    async with TopicReader(stack.endpoints["kafka_bootstrap_servers"], (agency_topic(POLICE),)) as reader:
        records = await reader.collect_until(done, timeout=30)
    keys = AgencyKeys.load(key_path(stack.home / "agencies", POLICE))
    sealed = [LawEnforcementPackageV3.model_validate_json(record.value) for record in records]
    clear = " ".join(record.value.decode() for record in records)
    assert not any(value in clear for value in (NARRATIVE, *CONTACT.values(), "child_protection", "Ottawa"))
    return [json.loads(open_package(package, keys).model_dump_json()) for package in sealed]


async def test_packages_reach_the_agency_only_on_a_basis_with_identity_only_by_consent_and_are_acknowledged(
    stack: LaunchedStack, tmp_path: Any
) -> None:
    desk = Desk(stack)
    urgent_minor = await desk.submit(
        "specialist", channel="phone", assessment=MINOR, consent=NO_CONSENT, victim_profile=PROFILE
    )
    web_minor = await desk.submit(assessment=MINOR, consent=NO_CONSENT, victim_profile=PROFILE)
    consented = await desk.submit(
        "specialist", channel="phone", consent={**NO_CONSENT, "law_enforcement": True}, victim_profile=None
    )
    no_basis = await desk.submit(consent=NO_CONSENT)
    withdrawn = await desk.submit(consent={**NO_CONSENT, "law_enforcement": True})

    first = await desk.case(urgent_minor, "forwarded")
    assert first["basis"] == "child_protection"
    held = await desk.case(web_minor, "pending_review")
    assert (held["basis"], held["queue"], held["packages"]) == ("child_protection", "expedited", [])
    await desk.case(consented, "pending_review")
    await desk.case(withdrawn, "pending_review")
    assert (await desk.case(no_basis, "not_forwarded"))["packages"] == []

    withdrawal = await desk.intake.put(
        f"/v1/tips/{withdrawn['tip_id']}/consent",
        json={"consent": NO_CONSENT, "channel": "web"},
        headers=desk.as_("specialist"),
    )
    assert withdrawal.status_code == 200, withdrawal.text
    assert (await desk.case(withdrawn, "cancelled"))["packages"] == []

    approved = await desk.disclosure.post(
        f"/v1/cases/{consented['tip_id']}/approve", json=APPROVE, headers=desk.as_("supervisor")
    )
    assert approved.json()["state"] == "forwarded"
    confirmed = await desk.disclosure.post(
        f"/v1/cases/{web_minor['tip_id']}/approve", json={"reason": "mandatory_ground_confirmed"},
        headers=desk.as_("supervisor"),
    )  # fmt: skip
    assert confirmed.json()["state"] == "forwarded", confirmed.text
    follow_up = await desk.intake.post(
        f"/v1/tips/{urgent_minor['reference']}/supplements",
        json={"code": urgent_minor["follow_up_code"], "assessment": {"imminent_danger": "yes"}},
    )
    assert follow_up.status_code == 202

    async def follow_up_waiting() -> bool:
        case = await desk.case(urgent_minor, "forwarded")
        return bool(case["pending_supplements"])

    assert await eventually(follow_up_waiting, timeout=30), "a follow-up waits for a supervisor"
    sent_on = await desk.disclosure.post(
        f"/v1/cases/{urgent_minor['tip_id']}/approve", json={"reason": "changes_sent_on"},
        headers=desk.as_("supervisor"),
    )  # fmt: skip
    assert sent_on.status_code == 200, sent_on.text

    packages = await police_packages(stack, lambda records: len(records) >= 4)
    references = {
        first["case_reference"]: "urgent_minor",
        (await desk.case(web_minor, "forwarded"))["case_reference"]: "web_minor",
        (await desk.case(consented, "forwarded"))["case_reference"]: "consented",
    }
    by_case = {
        references.get(package["case_reference"], "other"): package
        for package in packages
        if not package["supplementary_to"]
    }
    assert set(by_case) == {"urgent_minor", "web_minor", "consented"}, (
        "no package for a tip without a basis or a withdrawn consent"
    )
    assert all(package["basis"] != "none" for package in packages)
    assert all(package["content"]["caller_contact"] is None for package in packages)
    assert by_case["consented"]["content"]["narrative"] == [NARRATIVE]
    supplementary = [package for package in packages if package["supplementary_to"]]
    assert [package["case_reference"] for package in supplementary] == [first["case_reference"]]
    raw = " ".join(json.dumps(package) for package in packages)
    assert not any(value in raw for value in CONTACT.values())
    without_consent = " ".join(
        json.dumps(package)
        for package in packages
        if package["case_reference"] != by_case["consented"]["case_reference"]
    )
    assert not any(value in without_consent for value in FOR_SERVICES_ONLY)
    assert by_case["urgent_minor"]["approved_by"][0]["role"] == "specialist"
    assert by_case["web_minor"]["approved_by"][0]["role"] == "supervisor"

    liaison = await asyncio.to_thread(
        subprocess.run,
        [str(LANTERN), "liaison", "--agency", POLICE, "--out", str(tmp_path), "--idle-timeout", "5",
         "--home", str(stack.home)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert liaison.returncode == 0, liaison.stderr
    assert "4 package(s) acknowledged" in liaison.stderr
    assert len(list(tmp_path.glob("LE-*.json"))) == 4

    async def acknowledged() -> bool:
        case = await desk.case(urgent_minor, "forwarded")
        police = [package for package in case["packages"] if package["agency_id"] == POLICE]
        return all(package["acknowledged_at"] for package in police)

    assert await eventually(acknowledged, timeout=30)
    await desk.intake.aclose()
    await desk.disclosure.aclose()
