"""Packages sealed to their agency and acknowledgements signed by it, on the broker and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lantern.liaison import run_liaison
from lantern.observe import Published
from schemas import topics
from schemas.disclosure import LawEnforcementPackageV3, LiaisonAcknowledgementV2
from services.common.agency_keys import (
    AgencyKeys,
    AgencyPublicKeys,
    PackageUnreadable,
    open_package,
    seal_package,
    sign_acknowledgement,
)
from services.common.auth import Role
from services.common.db import create_pool
from services.common.epoch import BrokerEpoch
from services.common.settings import ServiceSettings
from services.disclosure.app import WITHHELD_ON_REPLAY
from services.disclosure.app import build_app as build_disclosure
from tests.factories import (
    CONTACT,
    IDENTIFYING_VALUES,
    NAMED_PERSON,
    NARRATIVE,
    tip_received,
    tip_supplemented,
    tip_triaged,
)
from tests.helpers import (
    environment_of,
    eventually,
    fetch,
    http_client,
    new_data_key,
    operations_client,
    produce,
    publish_events,
    read_until,
    running,
    staff_token,
)
from tests.keys import signed_headers, stack_keys

POLICE, PROTECTION = "surete-du-quebec", "dpj-qc"  # the factory's tips are from Joliette, Quebec
EVERYTHING = {"law_enforcement": True, "share_identity": True}
DANGER_ON_THE_CALL = {
    "channel": "phone",
    "assessment": {"imminent_danger": "yes", "trafficking_types": ["labour"]},
}
# What a package's content would show of the situation, its basis and urgency: sealed, all of it.
SITUATION = ("Joliette", "labour", "imminent_danger", "urgent", "specialist", '"content"', '"basis"')
DISCLOSURE_TABLES = (
    "cases",
    "packages",
    "approvals",
    "audit_log",
    "consent_records",
    "tip_sources",
    "outbox",
)


@pytest.fixture
async def disclosure(settings: ServiceSettings) -> AsyncIterator[ServiceSettings]:
    async with running(build_disclosure(settings)):
        yield settings


async def forwarded_package(settings: ServiceSettings) -> Published:
    """An urgent phone tip with every consent, sent at once to the police: the richest package."""
    key = await new_data_key(settings)
    tip = tip_received(key=key, consent=EVERYTHING, **DANGER_ON_THE_CALL)
    await publish_events(settings.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", danger=True))
    [record] = await read_until(
        settings.kafka_bootstrap_servers, (topics.agency_topic(POLICE),), lambda records: len(records) >= 1
    )
    return record


async def read_plainly(bootstrap: str, topic: str) -> bytes:
    """What anyone who reaches the broker reads: a plain aiokafka consumer in a group of its own."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id="curious",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                return bytes(records[0].value)
    finally:
        await consumer.stop()


async def tables(settings: ServiceSettings) -> dict[str, str]:
    """A digest of every row of disclosure's domain tables and outbox."""
    digests = {}
    for table in DISCLOSURE_TABLES:
        [row] = await fetch(
            settings,
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS d FROM disclosure.{table} t",
        )
        digests[table] = row["d"]
    return digests


async def acknowledged(settings: ServiceSettings) -> list[bool]:
    rows = await fetch(
        settings, "SELECT acknowledged_at FROM disclosure.packages WHERE agency_id = $1", POLICE
    )
    return [row["acknowledged_at"] is not None for row in rows]


async def test_a_package_read_from_its_topic_without_the_agencys_key_shows_no_content(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys], tmp_path: Path
) -> None:
    await forwarded_package(disclosure)
    raw = await read_plainly(disclosure.kafka_bootstrap_servers, topics.agency_topic(POLICE))

    clear = json.loads(raw)
    assert set(clear) == {"message_type", "schema_version", "package_id", "case_reference", "agency_id", "key_id",
                          "suite", "sealed"}  # fmt: skip
    text = raw.decode()
    assert not any(value in text for value in (*IDENTIFYING_VALUES, *SITUATION))
    sealed = LawEnforcementPackageV3.model_validate_json(raw)
    for stranger in (agency_keys[PROTECTION], AgencyKeys.generate(POLICE)):
        with pytest.raises(PackageUnreadable):
            open_package(sealed, stranger)

    shown: list[str] = []
    count = await run_liaison(
        disclosure.kafka_bootstrap_servers, agency_keys[POLICE], stack_keys().verifier(), tmp_path / "inbox", shown.append, shown.append,
        max_packages=1, idle_timeout=20,
    )  # fmt: skip
    assert count == 1
    [opened] = stored_packages(tmp_path / "inbox")
    assert opened["package_id"] == clear["package_id"] and opened["basis"] == "imminent_danger"
    assert opened["content"]["narrative"] == [NARRATIVE]
    assert {"name": NAMED_PERSON, "relation": "suspect"} in opened["content"]["suspects"]
    assert opened["content"]["caller_contact"]["phone"] == CONTACT["phone"]
    assert await eventually(lambda: acknowledged_all(disclosure)), (
        "the liaison's signed acknowledgement counts"
    )
    [row] = await fetch(
        disclosure,
        "SELECT length(payload) AS kept, sent_at FROM disclosure.outbox WHERE event_id = $1::uuid",
        clear["package_id"],
    )
    assert row["kept"] == 0 and row["sent_at"] is not None, "an acknowledged package leaves the outbox"


def stored_packages(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in directory.iterdir()]


async def acknowledged_all(settings: ServiceSettings) -> bool:
    states = await acknowledged(settings)
    return bool(states) and all(states)


async def test_an_acknowledgement_signed_by_another_agency_does_not_count(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys]
) -> None:
    record = await forwarded_package(disclosure)
    package = LawEnforcementPackageV3.model_validate_json(record.value)
    receipt = LiaisonAcknowledgementV2(
        package_id=package.package_id, case_reference=package.case_reference, agency_id=POLICE
    )
    in_the_polices_name = sign_acknowledgement(receipt, agency_keys[PROTECTION])
    in_its_own_name = sign_acknowledgement(
        receipt.model_copy(update={"agency_id": PROTECTION}), agency_keys[PROTECTION]
    )
    before = await tables(disclosure)

    for forged in (in_the_polices_name, in_its_own_name):
        await produce(
            disclosure.kafka_bootstrap_servers, topics.LE_ACKNOWLEDGEMENTS, forged.model_dump_json().encode(),
            forged.partition_key,
        )  # fmt: skip
    dead = await dead_letters(disclosure, 2)

    assert [letter.headers["dlt-reason"] for letter in dead] == [b"unauthenticated", b"rejected"]
    assert await tables(disclosure) == before
    assert await acknowledged(disclosure) == [False]

    genuine = sign_acknowledgement(receipt, agency_keys[POLICE])
    await produce(
        disclosure.kafka_bootstrap_servers, topics.LE_ACKNOWLEDGEMENTS, genuine.model_dump_json().encode(),
        genuine.partition_key,
    )  # fmt: skip
    assert await eventually(lambda: acknowledged_all(disclosure)), "the police's own acknowledgement counts"


async def test_a_forged_or_unsigned_acknowledgement_ends_on_the_dead_letter_topic_unauthenticated(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys]
) -> None:
    record = await forwarded_package(disclosure)
    package = LawEnforcementPackageV3.model_validate_json(record.value)
    receipt = LiaisonAcknowledgementV2(
        package_id=package.package_id, case_reference=package.case_reference, agency_id=POLICE
    )
    genuine = sign_acknowledgement(receipt, agency_keys[POLICE])
    version_1 = {**json.loads(receipt.model_dump_json(exclude={"key_id", "signature"})), "schema_version": 1}
    forgeries = [
        receipt.model_dump_json().encode(),
        json.dumps(version_1).encode(),
        sign_acknowledgement(receipt, AgencyKeys.generate(POLICE)).model_dump_json().encode(),
        genuine.model_copy(
            update={"acknowledgement_id": receipt.acknowledgement_id, "case_reference": "LE-0000-0000"}
        )
        .model_dump_json()
        .encode(),
    ]
    before = await tables(disclosure)

    for forged in forgeries:
        await produce(
            disclosure.kafka_bootstrap_servers, topics.LE_ACKNOWLEDGEMENTS, forged, package.partition_key
        )
    dead = await dead_letters(disclosure, len(forgeries))

    assert [letter.headers["dlt-reason"] for letter in dead] == [b"unauthenticated"] * len(forgeries)
    assert {letter.headers["dlt-exception-fqcn"] for letter in dead} == {
        b"services.common.consumer.Unauthenticated"
    }
    assert [letter.value for letter in dead] == forgeries
    assert await tables(disclosure) == before
    assert await acknowledged(disclosure) == [False]


async def dead_letters(settings: ServiceSettings, count: int) -> list[Published]:
    return await read_until(
        settings.kafka_bootstrap_servers,
        (topics.dead_letter_topic(topics.LE_ACKNOWLEDGEMENTS),),
        lambda records: len(records) >= count,
    )


async def test_an_agency_key_made_by_its_liaison_unit_is_registered_and_replaces_the_one_before(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    environment = environment_of(settings)
    made = lantern(environment, "agency", "keygen", POLICE, "--out", str(tmp_path / "police.key.json"))
    assert made.returncode == 0, made.stderr
    assert oct((tmp_path / "police.key.json").stat().st_mode & 0o777) == "0o600"
    assert "private" not in made.stdout
    public = AgencyPublicKeys.from_json(made.stdout)
    (tmp_path / "police.public.json").write_text(made.stdout)

    registered = lantern(environment, "agency", "register", str(tmp_path / "police.public.json"))
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.split() == [POLICE, public.key_id, "registered"]
    rows = await fetch(
        settings,
        "SELECT key_id, retired_at IS NULL AS current FROM disclosure.agency_keys WHERE agency_id = $1",
        POLICE,
    )
    assert sorted((row["key_id"] == public.key_id, row["current"]) for row in rows) == [
        (False, False),
        (True, True),
    ]
    again = lantern(environment, "agency", "keygen", POLICE, "--out", str(tmp_path / "police.key.json"))
    assert again.returncode == 1, "a key file is never overwritten"
    unknown = tmp_path / "unknown.public.json"
    unknown.write_text(AgencyKeys.generate("no-such-agency").public.to_json())
    assert lantern(environment, "agency", "register", str(unknown)).returncode == 2


def lantern(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lantern", *arguments], env=environment, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


async def test_the_liaison_refuses_a_package_sealed_to_its_key_that_disclosure_did_not_sign(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys], tmp_path: Path
) -> None:
    genuine = await forwarded_package(disclosure)
    opened = open_package(LawEnforcementPackageV3.model_validate_json(genuine.value), agency_keys[POLICE])
    # The agency's public key is no secret: anyone who holds it can seal a package to it.
    forged = seal_package(
        opened.model_copy(update={"package_id": uuid.uuid4(), "case_reference": "LE-FAKE-0000"}),
        agency_keys[POLICE].public,
    )
    payload, key = forged.model_dump_json().encode(), forged.partition_key
    producer = AIOKafkaProducer(
        bootstrap_servers=disclosure.kafka_bootstrap_servers, enable_idempotence=False
    )
    await producer.start()
    try:
        topic = topics.agency_topic(POLICE)
        await producer.send_and_wait(topic, payload, key=key)
        await producer.send_and_wait(
            topic, payload, key=key, headers=signed_headers(topic, key, payload, "referral")
        )
    finally:
        await producer.stop()

    complaints: list[str] = []
    count = await run_liaison(
        disclosure.kafka_bootstrap_servers, agency_keys[POLICE], stack_keys().verifier(), tmp_path / "inbox",
        lambda _line: None, complaints.append, max_packages=3, idle_timeout=5,
    )  # fmt: skip
    assert count == 1, "only the package disclosure signed is opened and acknowledged"
    assert [json.loads(path.read_text())["package_id"] for path in (tmp_path / "inbox").iterdir()] == [
        str(opened.package_id)
    ]
    assert len([line for line in complaints if "not signed by Lantern's disclosure service" in line]) == 2


async def disclosure_meets_a_wiped_broker(disclosure: ServiceSettings) -> None:
    """Disclosure's relay reads, once, the cluster id of a broker that restarted empty: its stored
    events are queued again, and packages its rules withhold on replay are flagged instead."""
    pool = await create_pool(disclosure.database_url, "disclosure", max_size=1)
    clusters = iter(("the broker that lost everything",))

    async def cluster_id() -> str:
        return next(clusters)

    async def nothing_to_prepare() -> None:
        return None

    try:
        await pool.execute("UPDATE broker_epoch SET cluster_id = 'the broker before'")
        await BrokerEpoch(
            pool, "disclosure", cluster_id, nothing_to_prepare, withheld=WITHHELD_ON_REPLAY
        ).check()
    finally:
        await pool.close()


async def test_after_a_broker_wipe_a_package_goes_out_again_only_if_its_caller_recorded_no_consent_since(
    disclosure: ServiceSettings,
) -> None:
    await forwarded_package(disclosure)
    await forwarded_package(disclosure)

    async def police_packages() -> list[Any]:
        rows = await fetch(
            disclosure, "SELECT package_id, tip_id FROM disclosure.packages WHERE agency_id = $1 ORDER BY issued_at",
            POLICE,
        )  # fmt: skip
        return rows if len(rows) == 2 else []

    standing, withdrawn = await eventually(police_packages, timeout=60)
    for tip_id, version in ((standing["tip_id"], 1), (withdrawn["tip_id"], 1), (withdrawn["tip_id"], 2)):
        await fetch(  # every tip's own consent is version 1; only a later one changes what stands
            disclosure,
            "INSERT INTO disclosure.consent_records (tip_id, event_id, version, consent, recorded_by_role,"
            " recorded_at) VALUES ($1, $2, $3, '{}'::jsonb, 'reporter', now())",
            tip_id, uuid.uuid4(), version,
        )  # fmt: skip
    await disclosure_meets_a_wiped_broker(disclosure)

    payloads = {
        row["event_id"]: row["bytes"]
        for row in await fetch(
            disclosure, "SELECT event_id, length(payload) AS bytes FROM disclosure.outbox WHERE event_id = ANY($1)",
            [standing["package_id"], withdrawn["package_id"]],
        )
    }  # fmt: skip
    assert payloads[standing["package_id"]] > 0, "an unacknowledged package is owed to the new broker"
    assert payloads[withdrawn["package_id"]] == 0, "a consent recorded since withholds it for a supervisor"

    # The withheld package's case is flagged for a supervisor, the package says why (a code), the
    # audit records it once and the metric counts it by reason only; the other case is not flagged.
    async def noted() -> list[Any]:
        return await fetch(
            disclosure,
            "SELECT detail FROM disclosure.audit_log WHERE tip_id = $1 AND action = 'package_withheld_on_replay'",
            withdrawn["tip_id"],
        )

    [entry] = await eventually(noted, timeout=30)
    assert json.loads(entry["detail"]) == {
        "package_id": str(withdrawn["package_id"]), "agency_id": POLICE, "reason": "consent_changed",
    }  # fmt: skip
    flags = {
        row["tip_id"]: row["replay_withheld_at"]
        for row in await fetch(
            disclosure,
            "SELECT tip_id, replay_withheld_at FROM disclosure.cases WHERE tip_id = ANY($1)",
            [standing["tip_id"], withdrawn["tip_id"]],
        )
    }
    assert flags[withdrawn["tip_id"]] is not None and flags[standing["tip_id"]] is None
    supervisor = await staff_token(disclosure.database_url, Role.SUPERVISOR)
    app = build_disclosure(disclosure)
    async with running(app), http_client(app) as client, operations_client(app) as operations:
        answer = await client.get(
            f"/v1/cases/{withdrawn['tip_id']}", headers={"authorization": f"Bearer {supervisor}"}
        )
        exported = (await operations.get("/metrics")).text.splitlines()
    assert answer.status_code == 200, answer.text
    case = answer.json()
    assert case["replay_withheld_at"] is not None
    [package] = [p for p in case["packages"] if p["package_id"] == str(withdrawn["package_id"])]
    assert package["withheld_reason"] == "consent_changed" and package["withheld_on_replay_at"]
    assert any(a["action"] == "package_withheld_on_replay" for a in case["audit"])
    counted = [line for line in exported if line.startswith("lantern_packages_withheld_on_replay")]
    assert counted and all(str(withdrawn["tip_id"]) not in line for line in counted)
    assert any('reason="consent_changed"' in line for line in counted)


async def test_a_supervisor_issues_a_withheld_package_again_on_the_consent_that_stands_and_its_agency_acknowledges_it(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys], tmp_path: Path
) -> None:
    await forwarded_package(disclosure)

    async def police_package() -> list[Any]:
        return await fetch(disclosure, "SELECT package_id, tip_id, fields FROM disclosure.packages")

    [first] = await eventually(police_package, timeout=60)
    assert "caller_contact" in first["fields"]
    # The caller took back their identity (the reporter's own record): the danger still stands.
    await fetch(
        disclosure,
        "INSERT INTO disclosure.consent_records (tip_id, event_id, version, consent, recorded_by_role,"
        " recorded_at) VALUES ($1, $2, 2, $3::jsonb, 'reporter', now())",
        first["tip_id"], uuid.uuid4(), json.dumps({"law_enforcement": True, "share_identity": False}),
    )  # fmt: skip
    await disclosure_meets_a_wiped_broker(disclosure)
    tip_id, package_id = first["tip_id"], first["package_id"]
    path = f"/v1/cases/{tip_id}/packages/{package_id}/reissue"

    app = build_disclosure(disclosure)
    async with running(app), http_client(app) as client:
        answers = []
        for _ in range(3):  # as many people as the policy asks, each a different supervisor
            supervisor = await staff_token(disclosure.database_url, Role.SUPERVISOR)
            answer = await client.post(
                path, json={"reason": "basis_still_stands"}, headers={"authorization": f"Bearer {supervisor}"}
            )
            assert answer.status_code == 200, answer.text
            answers.append(answer.json())
            if answer.json()["reissued"]:
                break
        again = await client.post(
            path, json={"reason": "basis_still_stands"}, headers={"authorization": f"Bearer {supervisor}"}
        )
        assert again.status_code == 409, "a package decided is decided once"
        case = (
            await client.get(f"/v1/cases/{tip_id}", headers={"authorization": f"Bearer {supervisor}"})
        ).json()

    assert answers[-1]["reissued"] and answers[-1]["approvals"] == answers[-1]["approvals_needed"]
    assert case["replay_withheld_at"] is None
    [old] = [p for p in case["packages"] if p["package_id"] == str(package_id)]
    assert old["withheld_decision"] == "reissued" and old["reissued_as"]
    [new] = [p for p in case["packages"] if p["package_id"] == old["reissued_as"]]
    assert "caller_contact" not in new["fields"] and "narrative" in new["fields"]
    actions = [entry["action"] for entry in case["audit"]]
    assert actions.count("reissue_approved") == len(answers) and actions[-1] == "forwarded"

    count = await run_liaison(
        disclosure.kafka_bootstrap_servers, agency_keys[POLICE], stack_keys().verifier(), tmp_path / "inbox",
        lambda _line: None, lambda _line: None, max_packages=2, idle_timeout=30,
    )  # fmt: skip
    assert count == 2, "the package the broker kept and the one issued again"
    [opened] = [p for p in stored_packages(tmp_path / "inbox") if p["package_id"] == new["package_id"]]
    assert opened["basis"] == "imminent_danger" and opened["content"]["caller_contact"] is None
    assert opened["content"]["narrative"] == [NARRATIVE]

    async def acknowledged_again() -> list[Any]:
        return await fetch(
            disclosure,
            "SELECT 1 FROM disclosure.packages WHERE package_id = $1::uuid AND acknowledged_at IS NOT NULL",
            new["package_id"],
        )

    assert await eventually(acknowledged_again, timeout=60)
    [verdict] = await fetch(
        disclosure, "SELECT verdict, package_id FROM disclosure.approvals WHERE tip_id = $1 AND package_id IS NOT NULL"
        " ORDER BY at DESC LIMIT 1", tip_id,
    )  # fmt: skip
    assert (verdict["verdict"], verdict["package_id"]) == ("reissue", package_id)


async def test_a_follow_up_approved_while_a_withheld_package_waits_reaches_its_agency_once_inside_the_reissue(
    disclosure: ServiceSettings, agency_keys: dict[str, AgencyKeys], tmp_path: Path
) -> None:
    key = await new_data_key(disclosure)
    tip = tip_received(key=key, consent=EVERYTHING, **DANGER_ON_THE_CALL)
    await publish_events(disclosure.kafka_bootstrap_servers, tip, tip_triaged(tip, "urgent", danger=True))

    async def police_package() -> list[Any]:
        return await fetch(
            disclosure, "SELECT package_id FROM disclosure.packages WHERE tip_id = $1", tip.tip_id
        )

    [first] = await eventually(police_package, timeout=60)
    await fetch(  # a consent recorded since the tip: the package waits for a supervisor after a wipe
        disclosure,
        "INSERT INTO disclosure.consent_records (tip_id, event_id, version, consent, recorded_by_role,"
        " recorded_at) VALUES ($1, $2, 2, $3::jsonb, 'reporter', now())",
        tip.tip_id, uuid.uuid4(), json.dumps(EVERYTHING),
    )  # fmt: skip
    await disclosure_meets_a_wiped_broker(disclosure)
    words = "Ils partent pour Montréal ce soir."
    follow_up = tip_supplemented(tip, key, narrative=words)
    await publish_events(disclosure.kafka_bootstrap_servers, follow_up)

    async def follow_up_waits() -> list[Any]:
        return await fetch(
            disclosure, "SELECT 1 FROM disclosure.cases WHERE tip_id = $1 AND $2 = ANY(pending_supplements)",
            tip.tip_id, follow_up.supplement_id,
        )  # fmt: skip

    await eventually(follow_up_waits, timeout=60)
    app = build_disclosure(disclosure)
    async with running(app), http_client(app) as client:
        supervisor = await staff_token(disclosure.database_url, Role.SUPERVISOR)
        headers = {"authorization": f"Bearer {supervisor}"}
        sent_on = await client.post(
            f"/v1/cases/{tip.tip_id}/approve", json={"reason": "changes_sent_on"}, headers=headers
        )
        assert sent_on.status_code == 200, sent_on.text
        owed = (await client.get(f"/v1/cases/{tip.tip_id}", headers=headers)).json()
        reissued = await client.post(
            f"/v1/cases/{tip.tip_id}/packages/{first['package_id']}/reissue",
            json={"reason": "basis_still_stands"},
            headers={
                "authorization": f"Bearer {await staff_token(disclosure.database_url, Role.SUPERVISOR)}"
            },
        )
        assert reissued.status_code == 200 and reissued.json()["reissued"], reissued.text
        case = (await client.get(f"/v1/cases/{tip.tip_id}", headers=headers)).json()

    [waiting] = [p for p in owed["packages"] if p["package_id"] == str(first["package_id"])]
    assert waiting["owed_follow_ups"] == [str(follow_up.supplement_id)] and len(owed["packages"]) == 1
    [forwarded] = [entry for entry in owed["audit"] if entry["action"] == "changes_forwarded"]
    assert [w["agency_id"] for w in forwarded["detail"]["follow_ups_waiting"]] == [POLICE]
    [old] = [p for p in case["packages"] if p["package_id"] == str(first["package_id"])]
    assert old["withheld_decision"] == "reissued" and len(case["packages"]) == 2, "no follow-up of its own"

    count = await run_liaison(
        disclosure.kafka_bootstrap_servers, agency_keys[POLICE], stack_keys().verifier(), tmp_path / "inbox",
        lambda _line: None, lambda _line: None, max_packages=3, idle_timeout=15,
    )  # fmt: skip
    assert count == 2, "the package the broker kept and the one issued again, nothing more"
    [again] = [p for p in stored_packages(tmp_path / "inbox") if p["package_id"] == old["reissued_as"]]
    assert again["supplementary_to"] is None and again["content"]["narrative"] == [NARRATIVE, words]
