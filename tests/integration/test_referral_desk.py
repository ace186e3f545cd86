"""The referral desk with object-level access: intake says who holds a tip, referral acts only for
them (or a supervisor); a confidential address only after the provider's or a supervisor's
confirmation; the search's widening steps and each proposal's reasons kept for the case view.
"""

import uuid
from datetime import timedelta

import httpx

from schemas import topics
from services.common.auth import Role
from services.common.db import connect
from services.common.settings import ServiceSettings
from services.intake.app import build_app as build_intake
from services.referral.adapters.directory import import_file
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.app import build_app as build_referral
from services.referral.settings import ReferralSettings
from tests.factories import tip_body, tip_received, tip_triaged
from tests.helpers import http_client, publish_events, published_for_tip, running
from tests.integration.test_referral_directory import CONFIDENTIAL, KINGSTON_WOMAN
from tests.integration.test_workbench import person_token, served

# Far from any listed provider's city: the search widens to the province.
TIMMINS = {
    **KINGSTON_WOMAN, "location": {"country": "CA", "province": "ON", "city": "Timmins"},
}  # fmt: skip


async def test_only_the_holder_or_a_supervisor_acts_and_the_address_waits_for_a_confirmation(
    settings: ServiceSettings,
) -> None:
    alice = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    bob = await person_token(settings, "Bob Specialist", Role.SPECIALIST)
    supervisor = await person_token(settings, "Sam Supervisor", Role.SUPERVISOR)
    as_ = {name: {"authorization": f"Bearer {token}"} for name, token in
           (("alice", alice), ("bob", bob), ("supervisor", supervisor))}  # fmt: skip
    async with served(build_intake(settings)) as [intake_url]:
        async with httpx.AsyncClient(base_url=intake_url) as intake:
            submitted = await intake.post(
                "/v1/tips", json=tip_body(channel="phone", **TIMMINS), headers=as_["alice"]
            )
            tip_id = submitted.json()["tip_id"]
            await intake.put(f"/v1/casework/tips/{tip_id}/assignment", json={}, headers=as_["alice"])
        referral = build_referral(ReferralSettings.of(settings).model_copy(update={"intake_url": intake_url}))
        async with running(referral), http_client(referral) as client:
            report = await import_file(settings.database_url, SAMPLE_DIRECTORY, timedelta(days=365))
            assert not report.errors
            tip = tip_received(**TIMMINS).model_copy(update={"tip_id": uuid.UUID(tip_id)})
            await publish_events(settings.kafka_bootstrap_servers, tip_triaged(tip, "non_urgent"))
            await published_for_tip(settings.kafka_bootstrap_servers, topics.REFERRALS, tip_id, lambda rs: rs)

            for_bob = await client.get(f"/v1/tips/{tip_id}/referrals", headers=as_["bob"])
            listed = await client.get(f"/v1/tips/{tip_id}/referrals", headers=as_["alice"])
            body = listed.json()
            first = body["referrals"][0]["referral_id"]
            bob_accepts = await client.post(f"/v1/referrals/{first}/accept", json={}, headers=as_["bob"])
            posing = await client.post(
                f"/v1/referrals/{first}/accept", json={"confirmed_by": "supervisor"}, headers=as_["alice"]
            )
            provider_off_the_line = await client.post(
                f"/v1/referrals/{first}/accept", json={"confirmed_by": "provider"}, headers=as_["alice"]
            )
            unconfirmed = await client.post(
                f"/v1/referrals/{first}/accept", json={"warm_transfer": True}, headers=as_["alice"]
            )
            not_hers = await client.post(f"/v1/referrals/{first}/confirm", headers=as_["alice"])
            confirmed = await client.post(f"/v1/referrals/{first}/confirm", headers=as_["supervisor"])
            completed = await client.post(f"/v1/referrals/{first}/complete", headers=as_["alice"])
            after = (await client.get(f"/v1/tips/{tip_id}/referrals", headers=as_["supervisor"])).json()
        stored = await connect(settings.database_url, "referral")
        try:
            kinds = await stored.fetch(
                "SELECT jsonb_typeof(reasons) FROM referral_matches WHERE tip_id = $1"
                " UNION ALL SELECT jsonb_typeof(reasons) FROM referrals WHERE tip_id = $1",
                uuid.UUID(tip_id),
            )
        finally:
            await stored.close()

    assert for_bob.status_code == 403 and bob_accepts.status_code == 403
    assert provider_off_the_line.status_code == 403, (
        "a provider confirms only on the line, in a warm transfer"
    )
    assert unconfirmed.headers["cache-control"] == "no-store"
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    assert body["match"]["status"] == "proposed"
    assert any(
        "widened" in reason["code"] or "widened" in reason["en"] for reason in body["match"]["reasons"]
    )
    assert all(row["reasons"] for row in body["referrals"])
    assert posing.status_code == 403
    assert unconfirmed.status_code == 200 and unconfirmed.json()["confidential_address"] is None
    assert not_hers.status_code == 403
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert confirmed.json()["confidential_address"].startswith(CONFIDENTIAL)
    assert completed.status_code == 200
    [state] = [row for row in after["referrals"] if row["referral_id"] == first]
    assert (state["status"], state["confirmed_by"], state["warm_transfer"]) == (
        "completed",
        "supervisor",
        True,
    )
    assert CONFIDENTIAL not in listed.text
    assert {kind for [kind] in kinds} == {"array"}, "reasons are stored as JSON arrays SQL can read into"


async def test_without_intake_to_ask_only_a_supervisor_acts_on_referrals(settings: ServiceSettings) -> None:
    specialist = await person_token(settings, "Alice Specialist", Role.SPECIALIST)
    referral = build_referral(ReferralSettings.of(settings).model_copy(update={"intake_url": None}))
    async with running(referral), http_client(referral) as client:
        refused = await client.get(
            f"/v1/tips/{uuid.uuid4()}/referrals", headers={"authorization": f"Bearer {specialist}"}
        )
    assert refused.status_code == 403
