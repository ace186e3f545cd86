"""The referral directory: import, the public API, proposals on the broker and the referral lifecycle."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lantern.observe import Published
from schemas import topics
from schemas.envelope import EventBase
from services.common.auth import Role
from services.common.settings import ServiceSettings
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.domain import hsds
from tests.factories import consent_recorded, tip_received, tip_triaged
from tests.helpers import fetch, http_client, publish_events, published_for_tip, running, staff_token

CONFIDENTIAL = "SAMPLE confidential address"
OPTED_OUT = {"deborahs-gate-shelter", "minwaashin-lodge-shelter", "vancouver-womens-shelter"}
KINGSTON_WOMAN = {
    "language": "en",
    "location": {"country": "CA", "province": "ON", "city": "Kingston"},
    "victim_profile": {"age": 27, "gender_identity": "woman", "languages": ["en"]},
    "needs": ["transitional_housing"],
    "consent": {"service_referral": True},
}


class Desk:
    def __init__(self, settings: ServiceSettings, client: httpx.AsyncClient, token: str) -> None:
        self.settings, self.client = settings, client
        self.staff = {"Authorization": f"Bearer {token}"}

    async def publish(self, *events: EventBase) -> None:
        await publish_events(self.settings.kafka_bootstrap_servers, *events)

    async def referral_events(self, tip_id: str, done: Any) -> list[Published]:
        return await published_for_tip(self.settings.kafka_bootstrap_servers, topics.REFERRALS, tip_id, done)


@pytest.fixture
async def desk(settings: ServiceSettings) -> AsyncIterator[Desk]:
    app = build_referral(settings)
    async with running(app), http_client(app) as client:
        report = await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=365))
        assert not report.errors and report.services > 30
        # A supervisor: a specialist acts only on the referrals of a tip they hold (test_referral_desk.py).
        yield Desk(settings, client, await staff_token(settings.database_url, Role.SUPERVISOR))


async def test_the_public_directory_lists_only_listed_providers_without_any_confidential_address(
    desk: Desk,
) -> None:
    everything = await desk.client.get("/v1/directory", params={"limit": 500})
    assert everything.status_code == 200
    listed = {provider["id"] for provider in everything.json()["providers"]}
    assert "a-new-day-ottawa" in listed and "canadian-ht-hotline" in listed
    assert not listed & OPTED_OUT
    assert CONFIDENTIAL not in everything.text

    ottawa_fr = await desk.client.get(
        "/v1/directory", params={"province": "ON", "city": "Ottawa", "service_type": "legal", "lang": "fr"}
    )
    providers = ottawa_fr.json()["providers"]
    assert {provider["id"] for provider in providers} >= {"vwap-ottawa", "national-legal-clinic"}
    assert {"code": "legal", "label": "Aide juridique"} in providers[0]["service_types"]
    spanish = await desk.client.get("/v1/directory", params={"province": "BC", "language": "es"})
    assert "bc-migrant-workers-centre" in {provider["id"] for provider in spanish.json()["providers"]}
    refused = await desk.client.get("/v1/directory", params={"province": "XX"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "province"


async def test_an_opted_out_provider_is_proposed_and_its_address_reaches_staff_only_on_acceptance(
    desk: Desk,
) -> None:
    tip = tip_received(**KINGSTON_WOMAN)
    await desk.publish(consent_recorded(tip, 1, [], service_referral=True))
    await desk.publish(tip_triaged(tip, "non_urgent"))
    [proposed] = await desk.referral_events(str(tip.tip_id), lambda records: len(records) >= 1)
    assert CONFIDENTIAL not in proposed.value.decode()
    proposals = {proposal["provider_id"]: proposal for proposal in proposed.json()["proposals"]}
    assert "deborahs-gate-shelter" in proposals
    referral_id = proposals["deborahs-gate-shelter"]["referral_id"]

    unexplained = await desk.client.post(f"/v1/referrals/{referral_id}/decline", json={}, headers=desk.staff)
    assert unexplained.status_code == 422
    accepted = await desk.client.post(
        f"/v1/referrals/{referral_id}/accept", json={"warm_transfer": True, "confirmed_by": "provider"},
        headers=desk.staff,
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["confidential_address"].startswith(CONFIDENTIAL)
    assert (
        await desk.client.post(f"/v1/referrals/{referral_id}/complete", headers=desk.staff)
    ).status_code == 200
    again = await desk.client.post(
        f"/v1/referrals/{referral_id}/revoke", json={"reason": "other"}, headers=desk.staff
    )
    assert again.status_code == 409

    records = await desk.referral_events(str(tip.tip_id), lambda records: len(records) >= 3)
    changes = [record.json() for record in records if record.json()["event_type"] == "referral.changed"]
    assert [(change["previous_status"], change["status"]) for change in changes] == [
        ("proposed", "accepted"), ("accepted", "completed"),
    ]  # fmt: skip
    assert changes[0]["warm_transfer"] is True
    assert all(CONFIDENTIAL not in record.value.decode() for record in records)
    history = await fetch(desk.settings, "SELECT to_status FROM referral.referral_history ORDER BY id")
    assert [row["to_status"] for row in history] == ["accepted", "completed"]


async def test_a_warm_transfer_needs_the_callers_referral_consent(desk: Desk) -> None:
    tip = tip_received(**KINGSTON_WOMAN)
    await desk.publish(tip_triaged(tip, "non_urgent"))
    [proposed] = await desk.referral_events(str(tip.tip_id), lambda records: len(records) >= 1)
    referral_id = proposed.json()["proposals"][0]["referral_id"]
    await desk.publish(consent_recorded(tip, 2, ["service_referral"], service_referral=False))
    records = await desk.referral_events(
        str(tip.tip_id), lambda records: any(r.json().get("status") == "revoked" for r in records)
    )
    revoked = [r.json() for r in records if r.json().get("status") == "revoked"]
    assert revoked, "the referral was never revoked"
    assert all(change["reason"] == "consent_withdrawn" for change in revoked)
    refused = await desk.client.post(
        f"/v1/referrals/{referral_id}/accept", json={"warm_transfer": True}, headers=desk.staff
    )
    assert refused.status_code == 409


async def lantern_import(
    settings: ServiceSettings, path: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    # In a thread: blocking the event loop would starve the running referral service's heartbeats.
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "lantern", "directory", "import", str(path), *options],
        env={**os.environ, "DATABASE_URL": settings.database_url}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def clinic(name: str, status: str | None = "active", scope: str = "province") -> dict[str, Any]:
    service: dict[str, Any] = {
        "id": "north-clinic-legal", "name": name, "assured_date": "2024-01-15", "interpretation_services": "Yes.",
        "minimum_age": 16, "service_areas": [{"id": "north-clinic-area", "scope": scope, "province": "ON"}],
        "languages": [{"id": "north-clinic-fr", "code": "fr"}, {"id": "north-clinic-en", "code": "en"}],
        "attributes": [{"id": "north-clinic-legal-need", "taxonomy_term_id": hsds.term_id("need:legal")}],
        "service_at_locations": [{"id": "north-clinic-here", "location_id": "north-clinic-site"}],
    }  # fmt: skip
    if status:
        service["status"] = status
    return {
        "id": "north-clinic", "name": "North Clinic", "description": "Legal help.", "public_listing": True,
        "locations": [{
            "id": "north-clinic-site", "location_type": "physical", "name": "Timmins", "latitude": 48.48,
            "longitude": -81.33, "address_confidential": True,
            "addresses": [{"id": "north-clinic-address", "address_1": "Secret 1", "city": "Timmins",
                           "state_province": "ON", "postal_code": "P4N 1A1", "country": "CA", "address_type": "physical"}],
        }],
        "services": [service],
    }  # fmt: skip


async def test_an_import_names_each_bad_record_and_field_and_a_reimport_updates_in_place(
    desk: Desk, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"organizations": [clinic("Legal help", status=None, scope="county")]}), encoding="utf-8"
    )
    refused = await lantern_import(desk.settings, bad)
    assert refused.returncode == 1
    assert "service north-clinic-legal: status: required" in refused.stderr
    assert "service_area north-clinic-area: scope: not one of the allowed values" in refused.stderr
    assert "nothing imported" in refused.stderr and "Secret 1" not in refused.stderr

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"organizations": [clinic("Legal help")]}), encoding="utf-8")
    first = await lantern_import(desk.settings, good)
    assert first.returncode == 0, first.stderr
    assert "imported 1 organizations, 1 services" in first.stdout
    assert "stale: north-clinic-legal" in first.stdout
    good.write_text(json.dumps({"organizations": [clinic("Aide juridique du Nord")]}), encoding="utf-8")
    assert (await lantern_import(desk.settings, good)).returncode == 0
    rows = await fetch(
        desk.settings,
        "SELECT record ->> 'name' AS name FROM referral.hsds_records WHERE id = 'north-clinic-legal'",
    )
    assert [r["name"] for r in rows] == ["Aide juridique du Nord"]
    listed = (
        await desk.client.get("/v1/directory", params={"city": "Timmins", "service_type": "legal"})
    ).json()
    [found] = [p for p in listed["providers"] if p["id"] == "north-clinic-legal"]
    assert found["stale"] is True and "Secret 1" not in str(listed)
