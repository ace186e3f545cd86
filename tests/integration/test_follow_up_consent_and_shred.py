"""Anonymous follow-up, consent records and shredding, through intake's HTTP edge and triage."""

import json
import uuid

import asyncpg

from schemas import topics
from services.common.auth import Role
from services.common.sealing import Keystore, configured_kek
from services.common.settings import ServiceSettings
from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from services.triage.app import build_app as build_triage
from tests.factories import IDENTIFYING_VALUES, tip_body
from tests.helpers import events_of_tips, fetch, http_client, read_until, running, staff_token

REASON = {"reason": "reporter_request"}


async def token_for(settings: ServiceSettings, role: Role) -> dict[str, str]:
    return {"authorization": f"Bearer {await staff_token(settings.database_url, role)}"}


async def test_a_reporter_adds_information_with_the_code_and_gets_a_new_one(
    settings: ServiceSettings,
) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        supplement = {"code": tip["follow_up_code"], "narrative": "Elle a été déplacée à Trois-Rivières.",
                      "assessment": {"imminent_danger": "yes"}}  # fmt: skip
        first = await client.post(f"/v1/tips/{tip['reference']}/supplements", json=supplement)
        reused = await client.post(f"/v1/tips/{tip['reference']}/supplements", json=supplement)
        renewed = await client.post(
            f"/v1/tips/{tip['reference'].lower()}/supplements",
            json={**supplement, "code": first.json()["follow_up_code"]},
        )
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_SUPPLEMENTED,), {tip["tip_id"]}
        )
    assert first.status_code == 202 and renewed.status_code == 202
    assert first.json()["follow_up_code"] != tip["follow_up_code"]
    assert reused.status_code == 403, "a code works once"
    published = events[tip["tip_id"]][topics.TIPS_SUPPLEMENTED]
    assert published[0]["update"]["assessment"]["imminent_danger"] == "yes"
    assert published[0]["identifiers"]["narrative"].startswith("sealed.v1.")
    assert "Trois-Rivières" not in json.dumps(published)


async def test_a_wrong_code_and_an_unknown_reference_are_refused_alike(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        wrong_code = await client.post(
            f"/v1/tips/{tip['reference']}/supplements", json={"code": "AAAA-BBBB-CCCC-DDDD", "narrative": "x"}
        )
        unknown = await client.post(
            "/v1/tips/LT-0000-0000/supplements", json={"code": tip["follow_up_code"], "narrative": "x"}
        )
    assert wrong_code.status_code == unknown.status_code == 403
    assert wrong_code.json() == unknown.json()
    assert dict(wrong_code.headers).keys() == dict(unknown.headers).keys()


async def test_repeated_failures_lock_a_reference_even_for_the_right_code(settings: ServiceSettings) -> None:
    app = build_app(IntakeSettings.of(settings).model_copy(update={"public_rate_limit": 100}))
    async with running(app), http_client(app) as client:
        tip = (await client.post("/v1/tips", json=tip_body())).json()
        url = f"/v1/tips/{tip['reference']}/supplements"
        failures = [await client.post(url, json={"code": f"WRONG-{n}", "narrative": "x"}) for n in range(5)]
        right_but_locked = await client.post(url, json={"code": tip["follow_up_code"], "narrative": "x"})
        unknown_locked = [
            await client.post("/v1/tips/LT-ZZZZ-ZZZZ/supplements", json={"code": "x", "narrative": "x"})
            for _ in range(6)
        ]
    assert {answer.status_code for answer in failures} == {403}
    assert right_but_locked.status_code == 403
    assert right_but_locked.json() == failures[0].json() == unknown_locked[-1].json()
    assert await fetch(settings, "SELECT 1 FROM intake.supplements") == []


async def test_a_consent_withdrawal_is_recorded_and_published(settings: ServiceSettings) -> None:
    app = build_app(settings)
    async with running(app), http_client(app) as client:
        staff = await token_for(settings, Role.SPECIALIST)
        tip = (await client.post("/v1/tips", json=tip_body(consent={"law_enforcement": True, "service_referral": True}),
                                 headers=staff)).json()  # fmt: skip
        update = {"consent": {"law_enforcement": False, "service_referral": True}, "channel": "phone",
                  "interpreter_used": True}  # fmt: skip
        anonymous = await client.put(f"/v1/tips/{tip['tip_id']}/consent", json=update)
        recorded = await client.put(f"/v1/tips/{tip['tip_id']}/consent", json=update, headers=staff)

        def both_versions(records: list) -> bool:
            return len([r for r in records if r.json()["tip_id"] == tip["tip_id"]]) >= 2

        records = await read_until(settings.kafka_bootstrap_servers, (topics.CONSENTS,), both_versions)
    assert anonymous.status_code == 401
    assert recorded.status_code == 200 and recorded.json()["version"] == 2
    latest = max((record.json() for record in records), key=lambda event: event["version"])
    assert latest["withdrawn"] == ["law_enforcement"]
    assert latest["interpreter_used"] is True and latest["recorded_by_role"] == "specialist"
    rows = await fetch(settings, "SELECT version, recorded_by_role FROM intake.consents ORDER BY version")
    assert [(row["version"], row["recorded_by_role"]) for row in rows] == [
        (1, "specialist"),
        (2, "specialist"),
    ]


async def test_a_shredded_tip_cannot_be_unsealed_by_any_service_and_its_events_still_flow(
    settings: ServiceSettings,
) -> None:
    intake = build_app(settings)
    async with running(intake), http_client(intake) as client:
        retried = {"idempotency-key": f"shred-{uuid.uuid4()}"}
        tip = (await client.post("/v1/tips", json=tip_body(), headers=retried)).json()
        url = f"/v1/admin/tips/{tip['tip_id']}/shred"
        admin = await token_for(settings, Role.ADMIN)
        refused = await client.post(url, json=REASON, headers=await token_for(settings, Role.SUPERVISOR))
        unexplained = await client.post(url, json={"reason": "because I said so"}, headers=admin)
        shredded = await client.post(url, json=REASON, headers=admin)
        again = await client.post(url, json=REASON, headers=admin)
    assert refused.status_code == 403 and shredded.status_code == 200 and again.status_code == 404
    assert unexplained.status_code == 422
    assert [error["field"] for error in unexplained.json()["errors"]] == ["reason"]
    [record] = await fetch(
        settings,
        "SELECT k.shred_reason, k.shredded_by_person = t.person_id AS by_the_admin, t.role"
        " FROM keys.data_keys k JOIN auth.staff_tokens t ON t.token_id = k.shredded_by_token",
    )
    assert dict(record) == {"shred_reason": "reporter_request", "by_the_admin": True, "role": "admin"}
    assert await fetch(settings, "SELECT 1 FROM intake.idempotency_keys") == [], "its fingerprint goes"
    async with running(build_triage(settings)):
        events = await events_of_tips(
            settings.kafka_bootstrap_servers, (topics.TIPS_TRIAGED,), {tip["tip_id"]}
        )
    [triaged] = events[tip["tip_id"]][topics.TIPS_TRIAGED]
    assert "narrative.erased" in {reason["code"] for reason in triaged["reasons"]}
    kek = configured_kek(settings.kek.get_secret_value() if settings.kek else None, None)
    connection = await asyncpg.connect(settings.database_url)
    try:
        for service in ("intake", "triage", "disclosure", "referral"):
            async with connection.transaction():
                opened = await Keystore(kek, service).open(
                    connection, uuid.UUID(tip["tip_id"]), purpose="test", fields=["narrative"]
                )
                assert opened is None
        outcomes = await connection.fetch("SELECT service, outcome FROM keys.unseal_audit ORDER BY id")
        [wrapped] = await connection.fetch("SELECT wrapped_key FROM keys.data_keys")
    finally:
        await connection.close()
    assert wrapped["wrapped_key"] is None
    assert ("triage", "erased") in {(row["service"], row["outcome"]) for row in outcomes}
    assert all(value not in json.dumps(events) for value in IDENTIFYING_VALUES)
