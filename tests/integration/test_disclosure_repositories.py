"""One contract for disclosure's repositories, held by both: in memory and on PostgreSQL.

What the handler tests prove on memory holds on PostgreSQL as far as this contract goes: what is
saved comes back the same in the next transaction, a failed transaction keeps nothing, and keys open
only for tips that were not shredded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import pytest

from schemas.disclosure import CaseState, LegalReference, LiaisonAcknowledgementV2
from schemas.envelope import utc_now
from schemas.tip import Consent
from schemas.triage import IndicatorFinding, Strength
from services.common.agency_keys import AgencyKeys, AgencyPublicKeys, RegisteredAgencyKey
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import Transactions
from services.common.retention import ERASED_IDENTIFIERS, Policy, run_steps
from services.common.sealing import DataKey, KeyEncryptionKey, Keystore, Shredding, ShredReason, shred
from services.disclosure import handlers
from services.disclosure.adapters.agency_keys import PostgresAgencyKeys
from services.disclosure.adapters.audit import AuditChain
from services.disclosure.adapters.memory import MemoryTransactions
from services.disclosure.adapters.unit_of_work import DisclosureUnitOfWork
from services.disclosure.adapters.views import CaseViews
from services.disclosure.domain.audit import ChainKey
from services.disclosure.domain.case import Case, Note, Supervisor, WithheldDecision
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Source, SourceKind
from services.disclosure.domain.routing import load_routing
from services.disclosure.ports import DisclosureTransactions
from services.disclosure.retention import STEPS as DISCLOSURE_STEPS
from tests.factories import consent_recorded, tip_received, tip_supplemented, tip_triaged
from tests.helpers import eventually
from tests.keys import stack_keys

SHREDDING = Shredding(ShredReason.ENTERED_IN_ERROR, token_id=uuid.UUID(int=7))

MIGRATIONS = Path(__file__).parents[2] / "services" / "disclosure" / "migrations"
ROUTING = load_routing()
FIRST, SECOND = Supervisor(uuid.uuid4(), uuid.uuid4()), Supervisor(uuid.uuid4(), uuid.uuid4())
ORDER = LegalReference(statute="Youth Protection Act (Quebec)", section="39", docket="500-41-000123-268")


class Backend(Protocol):
    transactions: DisclosureTransactions
    keystore: Keystore

    async def create_key(self, tip_id: uuid.UUID) -> DataKey: ...

    async def shred(self, tip_id: uuid.UUID) -> None: ...

    async def register_agency_key(self, keys: AgencyPublicKeys) -> None: ...

    async def withhold(self, tip_id: uuid.UUID, reason: str) -> None:
        """Mark the tip's unacknowledged packages withheld on replay, as ``app.WITHHELD_ON_REPLAY`` does."""
        ...


class InMemory:
    def __init__(self) -> None:
        self.transactions = MemoryTransactions()
        self.keystore = Keystore(KeyEncryptionKey(os.urandom(32)), "disclosure")

    async def create_key(self, tip_id: uuid.UUID) -> DataKey:
        return self.transactions.store.create_key(self.keystore.kek, tip_id)

    async def shred(self, tip_id: uuid.UUID) -> None:
        self.transactions.store.shred(tip_id)

    async def register_agency_key(self, keys: AgencyPublicKeys) -> None:
        store = self.transactions.store
        before = store.agency_keys.get(keys.agency_id)
        if before is not None:
            store.retired_agency_keys[before.key_id] = RegisteredAgencyKey(before, utc_now())
        store.agency_keys[keys.agency_id] = keys

    async def withhold(self, tip_id: uuid.UUID, reason: str) -> None:
        case, now = self.transactions.store.cases[tip_id], utc_now()
        case.packages = [
            replace(p, withheld_at=now, withheld_reason=reason) if p.acknowledged_at is None else p
            for p in case.packages
        ]
        case.replay_withheld_at = now


class OnPostgres:
    def __init__(self, transactions: Transactions[DisclosureUnitOfWork]) -> None:
        self.transactions = transactions
        self.keystore = Keystore(KeyEncryptionKey(os.urandom(32)), "disclosure")

    async def create_key(self, tip_id: uuid.UUID) -> DataKey:
        async with self.transactions.pool.acquire() as connection:
            return await Keystore(self.keystore.kek, "intake").create(connection, tip_id)

    async def shred(self, tip_id: uuid.UUID) -> None:
        async with self.transactions.pool.acquire() as connection:
            await shred(connection, tip_id, SHREDDING)

    async def register_agency_key(self, keys: AgencyPublicKeys) -> None:
        async with self.transactions.pool.acquire() as connection:
            await PostgresAgencyKeys(connection).register(keys)

    async def withhold(self, tip_id: uuid.UUID, reason: str) -> None:
        async with self.transactions.pool.acquire() as connection:
            await connection.execute(
                "UPDATE packages SET withheld_on_replay_at = now(), withheld_reason = $2"
                " WHERE tip_id = $1 AND acknowledged_at IS NULL",
                tip_id, reason,
            )  # fmt: skip
            await connection.execute("UPDATE cases SET replay_withheld_at = now() WHERE tip_id = $1", tip_id)


@pytest.fixture
def in_memory() -> Backend:
    return InMemory()


@pytest.fixture
async def on_postgres(database_url: str) -> AsyncIterator[Backend]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, "disclosure", service_migrations(MIGRATIONS))
    pool = await create_pool(database_url, "disclosure", max_size=2)
    try:
        chain = AuditChain(ChainKey(os.urandom(32)))
        yield OnPostgres(
            Transactions(pool, partial(DisclosureUnitOfWork, chain=chain), stack_keys().signer("disclosure"))
        )
    finally:
        await pool.close()


@pytest.fixture(params=["in_memory", "on_postgres"])
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen: Backend = request.getfixturevalue(request.param)
    return chosen


def forwarded_case() -> Case:
    """An urgent case that went out to police and child protection, was reviewed after, one package
    acknowledged, and a follow-up sent on: every part a case keeps.
    """
    tip = tip_received(
        channel="phone", location={"country": "CA", "province": "ON", "city": "Ottawa"},
        consent={"law_enforcement": True, "share_identity": True},
        assessment={"minor_involved": "yes", "trafficking_types": ["sex"]},
    )  # fmt: skip
    triaged = tip_triaged(tip, "urgent", minor=True, possible=("possible_danger",)).model_copy(
        update={"indicators": [IndicatorFinding(code="HT-03", strength=Strength.STRONG)]}
    )
    case = Case.open(triaged, "LE-7K3M-9QXD", tip.facts.channel, tip.recorded_by)
    received = utc_now()
    case.on_triage(triaged, [], ROUTING, received, Source.of_tip(tip))
    case.approve(FIRST, "reviewed_after_forward", [], ROUTING, received + timedelta(minutes=5))
    police = case.packages[0]
    case.on_acknowledgement(
        LiaisonAcknowledgementV2(
            package_id=police.package_id, case_reference=case.reference, agency_id=police.agency_id
        ),
        received + timedelta(minutes=6),
    )
    case.on_supplement(tip_supplemented(tip, needs=["medical"]), received + timedelta(minutes=9))
    moved = tip_supplemented(tip, location={"country": "CA", "province": "QC", "city": "Montréal"})
    case.on_supplement(moved, received + timedelta(minutes=10))
    revised = tip_triaged(tip, "urgent", minor=True, revision=2, facts=moved.update.applied_to(tip.facts))
    case.on_triage(revised, [], ROUTING, received + timedelta(minutes=11))
    case.approve(SECOND, "changes_sent_on", [], ROUTING, received + timedelta(minutes=12))
    assert any(package.moved_to for package in case.packages)
    case.on_supplement(tip_supplemented(tip), received + timedelta(minutes=13))
    assert case.queue is not None and case.pending_supplements
    return as_stored(case)


def as_stored(case: Case) -> Case:
    """The case in the order repositories give back: packages as issued, verdicts as given."""
    return replace(
        case,
        packages=sorted(case.packages, key=lambda package: (package.issued_at, package.package_id)),
        verdicts=sorted(
            case.verdicts, key=lambda verdict: (verdict.at, verdict.person_id, verdict.kind.value)
        ),
    )


async def test_a_case_comes_back_in_the_next_transaction_as_it_was_saved(backend: Backend) -> None:
    case = forwarded_case()
    assert len(case.packages) == 6 and case.verdicts and any(p.acknowledged_at for p in case.packages)
    async with backend.transactions.begin() as uow:
        await uow.cases.save(case)
    async with backend.transactions.begin() as uow:
        assert await uow.cases.get(case.tip_id) == case


async def test_a_case_saved_again_keeps_every_change(backend: Backend) -> None:
    tip = tip_received(consent={"law_enforcement": False})
    triaged = tip_triaged(tip, "non_urgent")
    case = Case.open(triaged, "LE-0000-0001", tip.facts.channel)
    case.on_triage(triaged, [], ROUTING, utc_now())
    async with backend.transactions.begin() as uow:
        await uow.cases.save(case)

    async with backend.transactions.begin() as uow:
        loaded = await uow.cases.get(case.tip_id)
        assert loaded is not None
        loaded.approve(FIRST, "legal_obligation", [], ROUTING, utc_now(), ORDER)
        await uow.cases.save(loaded)
        loaded.approve(SECOND, "legal_obligation", [], ROUTING, utc_now() + timedelta(seconds=1), ORDER)
        await uow.cases.save(loaded)

    async with backend.transactions.begin() as uow:
        again = await uow.cases.get(case.tip_id)
    assert again == as_stored(loaded)
    assert again is not None and again.state is CaseState.FORWARDED
    assert [approval.person_id for approval in again.approvals] == [FIRST.person_id, SECOND.person_id]
    assert again.legal_reference == ORDER


async def test_a_supervisors_decision_on_a_withheld_package_comes_back_with_the_case(
    backend: Backend,
) -> None:
    case = forwarded_case()
    async with backend.transactions.begin() as uow:
        await uow.cases.save(case)
    await backend.withhold(case.tip_id, "tip_shredded")
    async with backend.transactions.begin() as uow:
        loaded = await uow.cases.get(case.tip_id)
        assert loaded is not None and loaded.replay_withheld_at is not None
        waiting = [package for package in loaded.packages if package.awaits_decision]
        assert waiting and all(package.withheld_reason == "tip_shredded" for package in waiting)
        assert all(package.acknowledged_at is None for package in waiting)
        loaded.set_aside(FIRST, waiting[0].package_id, "reached_another_way", utc_now())
        await uow.cases.save(loaded)
    async with backend.transactions.begin() as uow:
        again = await uow.cases.get(case.tip_id)
    assert again == as_stored(loaded)
    assert again is not None
    [decided] = [package for package in again.packages if package.package_id == waiting[0].package_id]
    assert decided.withheld_decision is WithheldDecision.SET_ASIDE and not decided.awaits_decision
    [verdict] = [v for v in again.verdicts if v.package_id is not None]
    assert (verdict.package_id, verdict.person_id) == (waiting[0].package_id, FIRST.person_id)
    assert (again.replay_withheld_at is None) is (len(waiting) == 1)


async def test_a_withheld_package_its_agency_acknowledged_comes_back_closed_with_the_case(
    backend: Backend,
) -> None:
    case = forwarded_case()
    async with backend.transactions.begin() as uow:
        await uow.cases.save(case)
    await backend.withhold(case.tip_id, "tip_shredded")
    async with backend.transactions.begin() as uow:
        loaded = await uow.cases.get(case.tip_id)
        assert loaded is not None
        [waiting, *_] = [package for package in loaded.packages if package.awaits_decision]
        receipt = LiaisonAcknowledgementV2(
            package_id=waiting.package_id, case_reference=loaded.reference, agency_id=waiting.agency_id
        )
        loaded.on_acknowledgement(receipt, utc_now())
        await uow.cases.save(loaded)
    async with backend.transactions.begin() as uow:
        again = await uow.cases.get(case.tip_id)
    assert again == as_stored(loaded) and again is not None
    [closed] = [package for package in again.packages if package.package_id == waiting.package_id]
    assert closed.withheld_decision is WithheldDecision.ACKNOWLEDGED and closed.acknowledged_at is not None


async def test_what_an_agency_is_owed_while_its_package_waits_and_what_a_supervisor_kept_back_come_back_with_the_case(
    backend: Backend,
) -> None:
    tip = tip_received(
        channel="phone", location={"country": "CA", "province": "ON", "city": "Ottawa"},
        consent={"law_enforcement": True}, assessment={"minor_involved": "yes", "trafficking_types": ["sex"]},
    )  # fmt: skip
    triaged = tip_triaged(tip, "urgent", minor=True)
    case = Case.open(triaged, "LE-7K3M-9QXE", tip.facts.channel, tip.recorded_by)
    case.on_triage(triaged, [], ROUTING, utc_now(), Source.of_tip(tip))
    police, protection = case.packages
    receipt = LiaisonAcknowledgementV2(
        package_id=protection.package_id, case_reference=case.reference, agency_id=protection.agency_id
    )
    case.on_acknowledgement(receipt, utc_now())
    async with backend.transactions.begin() as uow:
        await uow.cases.save(as_stored(case))
    await backend.withhold(case.tip_id, "consent_changed")
    owed, kept = tip_supplemented(tip, needs=["medical"]), tip_supplemented(tip)
    async with backend.transactions.begin() as uow:
        loaded = await uow.cases.get(case.tip_id)
        assert loaded is not None
        loaded.on_supplement(owed, utc_now())
        loaded.approve(FIRST, "changes_sent_on", [], ROUTING, utc_now())
        loaded.on_supplement(kept, utc_now())
        loaded.keep(SECOND, "nothing_new", utc_now())
        await uow.cases.save(loaded)
    async with backend.transactions.begin() as uow:
        again = await uow.cases.get(case.tip_id)

    assert again == as_stored(loaded) and again is not None
    [waiting] = [package for package in again.packages if package.awaits_decision]
    assert (waiting.package_id, waiting.owed) == (police.package_id, (owed.supplement_id,))
    assert again.kept_supplements == (kept.supplement_id,)


async def test_a_shredded_tips_consent_records_stay_while_its_package_records_do_and_go_with_its_case(
    on_postgres: Backend, database_url: str
) -> None:
    case = forwarded_case()
    await on_postgres.create_key(case.tip_id)
    withdrawn = ConsentRecord(2, Consent(law_enforcement=False), "specialist", utc_now())
    async with on_postgres.transactions.begin() as uow:
        await uow.cases.save(case)
        await uow.consents.record(case.tip_id, uuid.uuid4(), withdrawn)
    await on_postgres.shred(case.tip_id)

    async def retained(days: int) -> tuple[int, ...]:
        connection = await asyncpg.connect(database_url)
        try:
            await run_steps(connection, DISCLOSURE_STEPS, Policy(), utc_now() + timedelta(days=days))
            return tuple(
                [
                    await connection.fetchval(
                        f"SELECT count(*) FROM disclosure.{table} WHERE tip_id = $1", case.tip_id
                    )
                    for table in ("consent_records", "cases", "packages")
                ]
            )
        finally:
            await connection.close()

    # Past the casework's limit from the shred, the package records still stand: so does the history a
    # reissue decides on, or the withdrawal would vanish and the tip's own consent stand again.
    assert await retained(100) == (1, 1, len(case.packages))
    assert await retained(8 * 365) == (0, 0, 0)


async def test_a_case_is_found_by_any_of_its_packages_and_nothing_by_an_unknown_id(backend: Backend) -> None:
    case = forwarded_case()
    async with backend.transactions.begin() as uow:
        await uow.cases.save(case)
    assert case.packages
    async with backend.transactions.begin() as uow:
        for package in case.packages:
            assert await uow.cases.with_package(package.package_id) == case
        assert await uow.cases.with_package(uuid.uuid4()) is None
        assert await uow.cases.get(uuid.uuid4()) is None


async def test_a_transaction_that_fails_keeps_nothing(backend: Backend) -> None:
    case = forwarded_case()

    async def save_then_fail() -> None:
        async with backend.transactions.begin() as uow:
            await uow.cases.save(case)
            await uow.audit.append(case.tip_id, Note("decided", "system:disclosure"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await save_then_fail()
    async with backend.transactions.begin() as uow:
        assert await uow.cases.get(case.tip_id) is None
        assert await uow.audit.trail(case.tip_id) == []


async def test_sources_are_kept_once_the_tip_first_then_follow_ups_in_the_order_received(
    backend: Backend,
) -> None:
    tip = tip_received()
    late, early = tip_supplemented(tip), tip_supplemented(tip)
    early = early.model_copy(update={"received_at": late.received_at - timedelta(minutes=1)})
    async with backend.transactions.begin() as uow:
        for source in (Source.of_supplement(late), Source.of_tip(tip), Source.of_supplement(early)):
            await uow.sources.add(source)
        await uow.sources.add(replace(Source.of_tip(tip), received_at=utc_now()))
    async with backend.transactions.begin() as uow:
        kept = await uow.sources.of_tip(tip.tip_id)
        assert await uow.sources.of_tip(uuid.uuid4()) == []
    assert [source.source_id for source in kept] == [tip.tip_id, early.supplement_id, late.supplement_id]
    assert kept[0] == Source.of_tip(tip) and kept[0].kind is SourceKind.TIP
    assert kept[1].identifiers == early.identifiers


async def test_every_consent_record_is_kept_once_whatever_its_version_and_comes_back_in_version_order(
    backend: Backend,
) -> None:
    tip_id, now = uuid.uuid4(), utc_now()
    granted = ConsentRecord(3, Consent(law_enforcement=True, share_identity=True), "specialist", now)
    withdrawn = ConsentRecord(2, Consent(service_referral=True), "reporter", now)
    replayed = ConsentRecord(3, Consent(), "reporter", now + timedelta(seconds=1))
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with backend.transactions.begin() as uow:
        assert await uow.consents.history(tip_id) == []
        assert await uow.consents.record(tip_id, first, granted)
        assert not await uow.consents.record(tip_id, first, withdrawn)
        assert await uow.consents.record(tip_id, second, withdrawn)
    async with backend.transactions.begin() as uow:
        assert await uow.consents.record(tip_id, third, replayed)
        assert await uow.consents.history(tip_id) == [withdrawn, granted, replayed]
        assert await uow.consents.history(uuid.uuid4()) == []


async def test_the_audit_gives_back_a_tips_entries_in_the_order_written(backend: Backend) -> None:
    tip_id, other = uuid.uuid4(), uuid.uuid4()
    notes = [
        Note("decided", "system:disclosure", {"fields": ["location", "situation"], "new_case": True}),
        Note("unsealed", "system:disclosure", {"fields": ["narrative"], "outcome": "erased"}),
        Note("approved", FIRST.actor, {"approvals": 1, "legal_reference": None, "reason": "x_y"}),
    ]
    async with backend.transactions.begin() as uow:
        await uow.audit.append(tip_id, notes[0])
        await uow.audit.append(other, Note("decided", "system:disclosure"))
        for note in notes[1:]:
            await uow.audit.append(tip_id, note)
    async with backend.transactions.begin() as uow:
        assert await uow.audit.trail(tip_id) == notes


async def test_a_tips_key_opens_what_intake_sealed_until_the_tip_is_shredded(backend: Backend) -> None:
    key = await backend.create_key(uuid.uuid4())
    sealed = key.seal("narrative", "Il a changé de numéro.")
    async with backend.transactions.begin() as uow:
        opened = await uow.keys.open(backend.keystore, key.tip_id, ["narrative"], "disclosure.forward")
        assert (
            await uow.keys.open(backend.keystore, uuid.uuid4(), ["narrative"], "disclosure.forward") is None
        )
    assert opened is not None and opened.unseal("narrative", sealed) == "Il a changé de numéro."

    async with backend.transactions.begin() as uow:
        assert not await uow.keys.shredded(key.tip_id)
    await backend.shred(key.tip_id)
    async with backend.transactions.begin() as uow:
        assert await uow.keys.open(backend.keystore, key.tip_id, ["narrative"], "disclosure.forward") is None
        assert await uow.keys.shredded(key.tip_id)
    assert backend.keystore.unseals == {"unsealed": 1, "erased": 2}


async def uow_current_of(backend: Backend, agency_ids: list[str]) -> dict[str, AgencyPublicKeys]:
    """The current keys of several agencies read at once: only those that registered one."""
    async with backend.transactions.begin() as uow:
        return await uow.agency_keys.current_of(agency_ids)


async def test_an_agency_key_rotated_out_is_still_found_by_its_id_with_when_it_was_retired(
    backend: Backend,
) -> None:
    first, second = (
        AgencyKeys.generate("ottawa-police-htu").public,
        AgencyKeys.generate("ottawa-police-htu").public,
    )
    await backend.register_agency_key(first)
    await backend.register_agency_key(second)

    async with backend.transactions.begin() as uow:
        current = await uow.agency_keys.current("ottawa-police-htu")
        retired = await uow.agency_keys.named("ottawa-police-htu", first.key_id)
        named_current = await uow.agency_keys.named("ottawa-police-htu", second.key_id)
        elsewhere = await uow.agency_keys.named("cas-ottawa", first.key_id)

    assert current == second
    assert await uow_current_of(backend, ["ottawa-police-htu", "no-such-agency"]) == {
        "ottawa-police-htu": second
    }
    assert retired is not None and retired.keys == first and retired.retired_at is not None
    assert named_current == RegisteredAgencyKey(second, retired_at=None)
    assert elsewhere is None, "a key is found only in the name of the agency that registered it"


async def test_a_cases_record_is_read_as_of_one_moment_though_a_withdrawal_commits_while_it_is_read(
    on_postgres: OnPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supervisor's record of a case must not show the withdrawal's audit entry beside the caller's
    words it took out of the permitted fields: that pairing is what the case never was.
    """
    transactions, keystore = on_postgres.transactions, on_postgres.keystore
    tip = tip_received(consent={"law_enforcement": True})
    async with transactions.begin() as uow:
        await handlers.record_tip(tip, uow)
        await handlers.decide_on_triage(tip_triaged(tip, "non_urgent", danger=True), uow, keystore, ROUTING)

    case_read, withdrawal_committed = asyncio.Event(), asyncio.Event()
    read_case = CaseViews.case

    async def case_then_wait(views: CaseViews, tip_id: uuid.UUID) -> Any:
        row = await read_case(views, tip_id)
        case_read.set()
        await withdrawal_committed.wait()
        return row

    monkeypatch.setattr(CaseViews, "case", case_then_wait)
    reading = asyncio.create_task(handlers.case_record(transactions, tip.tip_id))
    await asyncio.wait_for(case_read.wait(), timeout=10)
    async with transactions.begin() as uow:
        withdrawal = consent_recorded(tip, 2, ["law_enforcement"])
        await handlers.record_consent(withdrawal, uow, keystore, ROUTING)
    withdrawal_committed.set()
    record = await asyncio.wait_for(reading, timeout=10)
    monkeypatch.undo()
    after = await handlers.case_record(transactions, tip.tip_id)

    def seen(record: dict[str, Any] | None) -> tuple[bool, bool]:
        """Whether the caller's words are permitted, and whether the audit shows the withdrawal."""
        assert record is not None
        actions = [entry["action"] for entry in record["audit"]]
        return "narrative" in record["fields"], "consent_withdrawn_mandatory_basis_stands" in actions

    assert seen(after) == (False, True), "the withdrawal took the caller's words out on a mandatory basis"
    assert seen(record) == (True, False), "the record read before the withdrawal committed shows none of it"


@pytest.mark.parametrize("first", ["consent", "triage"])
async def test_a_consent_and_the_triage_that_opens_the_case_never_decide_past_each_other(
    first: str, on_postgres: OnPostgres, database_url: str
) -> None:
    """The triage that opens a case and a withdrawal of consent, in two transactions at once (an inbox
    sweep retrying a deferred triage beside a batch, or two consumers): whichever commits last must see
    the other, or the case is decided on a consent that no longer stands.
    """
    transactions, keystore = on_postgres.transactions, on_postgres.keystore
    tip = tip_received(consent={"law_enforcement": True})
    async with transactions.begin() as uow:
        await handlers.record_tip(tip, uow)
    withdrawal = consent_recorded(tip, 2, ["law_enforcement"])
    steps = {
        "consent": partial(handlers.record_consent, withdrawal, keystore=keystore, routing=ROUTING),
        "triage": partial(
            handlers.decide_on_triage, tip_triaged(tip, "non_urgent"), keystore=keystore, routing=ROUTING
        ),
    }
    second = next(step for name, step in steps.items() if name != first)

    async def in_its_own_transaction() -> None:
        async with transactions.begin() as uow:
            await second(uow=uow)

    observer = await asyncpg.connect(database_url)
    try:

        async def done_or_waiting(task: asyncio.Task[None]) -> bool:
            waiting = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            return task.done() or waiting > 0

        async with transactions.begin() as uow:
            await steps[first](uow=uow)
            other = asyncio.create_task(in_its_own_transaction())
            assert await eventually(lambda: done_or_waiting(other))
        await asyncio.wait_for(other, timeout=10)
    finally:
        await observer.close()

    async with transactions.begin() as uow:
        case = await uow.cases.get(tip.tip_id)
    # Decided on the withdrawal, or decided first and then cancelled by it: never waiting to go out.
    expected = {"consent": CaseState.NOT_FORWARDED, "triage": CaseState.CANCELLED}[first]
    assert case is not None and case.state is expected, f"decided past the withdrawal: {case and case.state}"


@pytest.mark.empty_database
async def test_migration_0013_fills_in_from_the_audit_the_follow_ups_supervisors_kept_back_before_0012(
    database_url: str, tmp_path: Path
) -> None:
    until_0012 = tmp_path / "migrations"
    until_0012.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0013":
            shutil.copy(path, until_0012 / path.name)
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, "disclosure", service_migrations(until_0012))
    kept, untouched = forwarded_case(), replace(forwarded_case(), reference="LE-0000-0002")
    held_back = kept.pending_supplements
    _, keeping = kept.keep(FIRST, "nothing_new", utc_now())
    # Before 0012 a keeping left its follow-ups in the audit only; one recorded since stays.
    since = uuid.uuid4()
    kept.kept_supplements = (since,)
    pool = await create_pool(database_url, "disclosure", max_size=2)
    try:
        chain = AuditChain(ChainKey(os.urandom(32)))
        transactions = Transactions(
            pool, partial(DisclosureUnitOfWork, chain=chain), stack_keys().signer("disclosure")
        )
        async with transactions.begin() as uow:
            for case in (kept, untouched):
                await uow.cases.save(case)
            for note in keeping.notes:
                await uow.audit.append(kept.tip_id, note)
            await uow.audit.append(
                untouched.tip_id, Note("kept", FIRST.actor, {"supplements_not_forwarded": []})
            )
        assert [note.action for note in keeping.notes] == ["kept"] and held_back

        await apply_migrations(database_url, "disclosure", service_migrations(MIGRATIONS))

        async with transactions.begin() as uow:
            migrated = await uow.cases.get(kept.tip_id)
            other = await uow.cases.get(untouched.tip_id)
    finally:
        await pool.close()
    assert migrated is not None and sorted(migrated.kept_supplements) == sorted({since, *held_back})
    assert other is not None and other.kept_supplements == ()


async def test_a_package_retention_deleted_while_its_case_was_held_is_not_written_back(
    on_postgres: OnPostgres,
) -> None:
    case = forwarded_case()
    async with on_postgres.transactions.begin() as uow:
        await uow.cases.save(case)
    async with on_postgres.transactions.begin() as uow:
        loaded = await uow.cases.get(case.tip_id)
        assert loaded is not None
        [waiting, *_] = [package for package in loaded.packages if package.acknowledged_at is None]
        # Retention deletes expired packages without taking the case's lock.
        async with on_postgres.transactions.pool.acquire() as retention:
            await retention.execute("DELETE FROM packages WHERE tip_id = $1", case.tip_id)
        loaded.on_acknowledgement(
            LiaisonAcknowledgementV2(
                package_id=waiting.package_id, case_reference=loaded.reference, agency_id=waiting.agency_id
            ),
            utc_now(),
        )
        await uow.cases.save(loaded)
    async with on_postgres.transactions.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM packages WHERE tip_id = $1", case.tip_id) == 0


class RecordingConnection:
    """A connection that remembers what each ``fetch`` was asked, and passes everything on."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.fetched: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    async def fetch(self, query: str, *args: Any) -> Any:
        self.fetched.append((query, args))
        return await self.connection.fetch(query, *args)


async def saved_cases(on_postgres: Backend, count: int) -> list[uuid.UUID]:
    cases = [replace(forwarded_case(), reference=f"LE-7K3M-9QX{'ABCDEFGH'[n]}") for n in range(count)]
    async with on_postgres.transactions.begin() as uow:
        for case in cases:
            await uow.cases.save(case)
    return [case.tip_id for case in cases]


async def waiting_on_a_lock(observer: asyncpg.Connection) -> bool:
    waiting: int = await observer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return waiting > 0


@pytest.mark.parametrize("reverse", [False, True])
async def test_a_batch_locks_its_tips_in_one_order_whatever_its_events_order(
    reverse: bool, on_postgres: OnPostgres
) -> None:
    tips = [uuid.uuid4() for _ in range(5)]
    async with on_postgres.transactions.begin() as uow:
        uow.batch_tips = tuple(reversed(tips) if reverse else tips)
        uow.cases.connection = recording = RecordingConnection(uow.connection)
        await uow.cases.get(tips[2])
    [locked] = [args for query, args in recording.fetched if "disclosure.case/" in query]
    assert locked == (sorted(tips),)


async def test_a_batch_takes_its_tips_locks_in_the_order_of_their_keys_as_retention_and_held_tips_do(
    on_postgres: OnPostgres, database_url: str
) -> None:
    """Sorted by the lock's key, not the tip's id: retention and the inbox's held tips take theirs
    in that order, and two orders could deadlock each other."""
    observer, holder = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        key = "SELECT hashtext('disclosure.case/' || $1::uuid)"
        while True:
            first, second = uuid.uuid4(), uuid.uuid4()
            if await observer.fetchval(key, first) < await observer.fetchval(key, second) and first > second:
                break
        held = holder.transaction()
        await held.start()
        await holder.execute("SELECT pg_advisory_xact_lock(hashtext('disclosure.case/' || $1::uuid))", second)

        async def batch() -> None:
            async with on_postgres.transactions.begin() as uow:
                uow.batch_tips = (first, second)
                await uow.cases.get(first)

        locking = asyncio.create_task(batch())
        assert await eventually(lambda: waiting_on_a_lock(observer))
        taken = not await observer.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtext('disclosure.case/' || $1::uuid))", first
        )
        await held.rollback()
        await asyncio.wait_for(locking, timeout=10)
        assert taken, "the batch waits for the second key's lock holding the first's"
    finally:
        await observer.close()
        await holder.close()


async def test_a_batchs_cases_are_locked_with_its_tips_so_the_review_clock_skips_them(
    on_postgres: OnPostgres, database_url: str
) -> None:
    """The clock locks due cases' rows (SKIP LOCKED) before the audit chain: a case row the batch
    would lock only at a later event, after it took the chain, could deadlock with it."""
    first, second = await saved_cases(on_postgres, 2)
    observer = await asyncpg.connect(database_url)
    try:
        async with on_postgres.transactions.begin() as uow:
            uow.batch_tips = (first, second)
            await uow.cases.get(first)
            free = await observer.fetch(
                "SELECT tip_id FROM disclosure.cases WHERE tip_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED",
                [first, second],
            )
        assert free == []
    finally:
        await observer.close()


async def test_a_consent_history_read_before_any_case_reads_only_the_tip_asked_for(
    on_postgres: OnPostgres,
) -> None:
    """Before the batch's tips are locked, a read for all of them could miss a record committed
    before its tip's lock is taken."""
    first, second = uuid.uuid4(), uuid.uuid4()
    recorded = ConsentRecord(1, Consent(law_enforcement=True), "specialist", utc_now())
    async with on_postgres.transactions.begin() as uow:
        uow.batch_tips = (first, second)
        assert await uow.consents.history(first) == []
        async with on_postgres.transactions.begin() as other:
            assert await other.consents.record(second, uuid.uuid4(), recorded)
        assert await uow.consents.history(second) == [recorded]


# Every step of disclosure's retention but the packages' (which goes without the lock: a case saved after
# them does not write them back) acts on a tip's rows only under the consume path's lock of that tip.
LOCKED_STEPS = [at for at, step in enumerate(DISCLOSURE_STEPS) if step.table != "disclosure.packages"]


@pytest.mark.parametrize("at", LOCKED_STEPS, ids=lambda at: f"{at}-{DISCLOSURE_STEPS[at].table}")
async def test_retention_waits_for_a_tip_held_by_the_consume_path_before_it_deletes_its_rows(
    on_postgres: OnPostgres, database_url: str, at: int
) -> None:
    case = forwarded_case()
    await on_postgres.create_key(case.tip_id)
    async with on_postgres.transactions.begin() as uow:
        await uow.cases.save(case)
        await uow.sources.add(Source.of_tip(tip_received().model_copy(update={"tip_id": case.tip_id})))
        consent = ConsentRecord(1, Consent(law_enforcement=True), "specialist", utc_now())
        await uow.consents.record(case.tip_id, uuid.uuid4(), consent)
    await on_postgres.shred(case.tip_id)
    observer, holder, retention = [await asyncpg.connect(database_url) for _ in range(3)]
    later = utc_now() + timedelta(days=8 * 365)
    table = ".".join(DISCLOSURE_STEPS[at].table.split(".")[:2])  # an erasure's is table.column
    counted = f"SELECT count(*) FROM {table} WHERE tip_id = $1"
    if at == 0:  # the identifiers' erasure: the rows still holding them
        counted += f" AND identifiers IS DISTINCT FROM {ERASED_IDENTIFIERS}"
    try:
        # The steps before it, as a round runs them, so that its rows are due.
        await run_steps(retention, DISCLOSURE_STEPS[:at], Policy(), later)
        before = await observer.fetchval(counted, case.tip_id)
        assert before, f"{table} has a row of the tip for the step to act on"
        held = holder.transaction()
        await held.start()
        await holder.execute(
            "SELECT pg_advisory_xact_lock(hashtext('disclosure.case/' || $1::uuid))", case.tip_id
        )
        retaining = asyncio.create_task(run_steps(retention, DISCLOSURE_STEPS[at : at + 1], Policy(), later))

        async def done_or_waiting() -> bool:
            return retaining.done() or await waiting_on_a_lock(observer)

        assert await eventually(done_or_waiting)
        assert not retaining.done(), "retention went on while the tip was held"
        assert await observer.fetchval(counted, case.tip_id) == before
        await held.rollback()
        await asyncio.wait_for(retaining, timeout=10)
        assert await observer.fetchval(counted, case.tip_id) == 0
    finally:
        for connection in (observer, holder, retention):
            await connection.close()
