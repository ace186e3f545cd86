"""One contract for triage's repositories, held by the PostgreSQL ones and by those in memory."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from schemas.envelope import utc_now
from schemas.intake import FactsUpdate
from schemas.triage import OverrideReason, Urgency
from services.common.db import apply_migrations, apply_shared_migrations, create_pool, service_migrations
from services.common.messaging import Transactions
from services.common.sealing import DataKey, KeyEncryptionKey, Keystore, Shredding, ShredReason, shred
from services.triage.adapters.memory import MemoryTriage
from services.triage.adapters.postgres import TriageUnitOfWork
from services.triage.app import SPEC
from services.triage.domain.actor import Actor
from services.triage.domain.classification import classify
from services.triage.domain.decision import Decision, Override, Supplement
from services.triage.domain.plan import PlanAlreadyOpen, ResponsePlan
from services.triage.domain.plans import load_templates
from services.triage.ports import TriageWork
from tests.factories import tip_received
from tests.keys import stack_keys

SHREDDING = Shredding(ShredReason.ENTERED_IN_ERROR, token_id=uuid.UUID(int=7))

KEYSTORE = Keystore(KeyEncryptionKey(bytes(32)), "triage")
TEMPLATES = load_templates()
SUPERVISOR = Actor(uuid.uuid4(), "supervisor")
URGENT: dict[str, Any] = {"assessment": {"minor_involved": "yes"}}


@dataclass
class Backend:
    """A place to keep triage's state, and what a test needs to do to it from outside."""

    begin: Callable[[], AbstractAsyncContextManager[TriageWork]]
    create_key: Callable[[uuid.UUID], Any]
    shred_key: Callable[[uuid.UUID], Any]
    audited_actions: Callable[[uuid.UUID], Any]


@pytest.fixture
async def postgres_backend(database_url: str) -> AsyncIterator[Backend]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, SPEC.name, service_migrations(SPEC.migrations))
    pool = await create_pool(database_url, SPEC.name)
    transactions = Transactions(
        pool, TriageUnitOfWork.opening_keys_with(KEYSTORE), stack_keys().signer(SPEC.name)
    )

    async def create_key(tip_id: uuid.UUID) -> DataKey:
        async with pool.acquire() as connection:
            return await KEYSTORE.create(connection, tip_id)

    async def shred_key(tip_id: uuid.UUID) -> None:
        async with pool.acquire() as connection:
            await shred(connection, tip_id, SHREDDING)

    async def audited_actions(plan_id: uuid.UUID) -> list[tuple[str, str | None]]:
        rows: list[asyncpg.Record] = await pool.fetch(
            "SELECT action, step FROM plan_actions WHERE plan_id = $1 ORDER BY action_id", plan_id
        )
        return [(row["action"], row["step"]) for row in rows]

    try:
        yield Backend(transactions.begin, create_key, shred_key, audited_actions)
    finally:
        await pool.close()


@pytest.fixture
async def memory_backend() -> Backend:
    triage = MemoryTriage()

    async def create_key(tip_id: uuid.UUID) -> DataKey:
        key = DataKey(tip_id, bytes(32))
        triage.tables.data_keys[tip_id] = key
        return key

    async def shred_key(tip_id: uuid.UUID) -> None:
        triage.tables.data_keys[tip_id] = None

    async def audited_actions(plan_id: uuid.UUID) -> list[tuple[str, str | None]]:
        return [
            (action.action, action.step) for kept, action in triage.tables.plan_actions if kept == plan_id
        ]

    return Backend(triage.begin, create_key, shred_key, audited_actions)


@pytest.fixture(params=["memory", "postgres"])
def backend(request: pytest.FixtureRequest) -> Backend:
    kept: Backend = request.getfixturevalue(f"{request.param}_backend")
    return kept


def new_decision(**overrides: Any) -> Decision:
    tip = tip_received(**overrides)
    return Decision.first(tip, classify(tip.facts))


def new_plan(decision: Decision, urgency: Urgency | None = None, minutes_ago: float = 0) -> ResponsePlan:
    counted_from = utc_now() - timedelta(minutes=minutes_ago)
    plan, _ = ResponsePlan.start(
        tip_id=decision.tip_id, correlation_id=decision.correlation_id, traceparent=decision.traceparent,
        urgency=urgency or decision.urgency, cause_id=uuid.uuid4(), counted_from=counted_from, now=utc_now(),
        templates=TEMPLATES,
    )  # fmt: skip
    return plan


async def keep(backend: Backend, decision: Decision, *plans: ResponsePlan) -> None:
    async with backend.begin() as uow:
        await uow.decisions.add(decision)
        for plan in plans:
            await uow.plans.add(plan)


async def test_a_decision_comes_back_as_it_was_kept_and_as_it_was_revised(backend: Backend) -> None:
    decision = new_decision(**URGENT)
    await keep(backend, decision)
    async with backend.begin() as uow:
        assert await uow.decisions.get(decision.tip_id) == decision
        decision.override(
            Urgency.NON_URGENT, OverrideReason.DUPLICATE, classify(decision.received_facts), uuid.uuid4()
        )
        await uow.decisions.save(decision)
    async with backend.begin() as uow:
        revised = await uow.decisions.get(decision.tip_id)
        assert revised == decision
        assert await uow.decisions.get(uuid.uuid4()) is None
    assert revised is not None
    assert (revised.revision, revised.urgency) == (2, Urgency.NON_URGENT)


async def test_supplements_come_back_in_the_order_received_and_one_kept_twice_is_kept_once(
    backend: Backend,
) -> None:
    tip_id, now = uuid.uuid4(), utc_now()
    later = Supplement(uuid.uuid4(), tip_id, FactsUpdate(needs=["legal"]), None, now)
    earlier = Supplement(
        uuid.uuid4(), tip_id, FactsUpdate(), "sealed.v1." + "A" * 40, now - timedelta(minutes=1)
    )
    async with backend.begin() as uow:
        for supplement in (later, earlier, later):
            await uow.supplements.add(supplement)
    async with backend.begin() as uow:
        assert await uow.supplements.of_tip(tip_id) == [earlier, later]
        assert await uow.supplements.of_tip(uuid.uuid4()) == []


async def test_a_supplement_whose_id_was_kept_before_adds_nothing_to_supplements_already_read(
    backend: Backend,
) -> None:
    kept_for, read_for, now = uuid.uuid4(), uuid.uuid4(), utc_now()
    kept = Supplement(uuid.uuid4(), kept_for, FactsUpdate(), None, now)
    async with backend.begin() as uow:
        await uow.supplements.add(kept)
    async with backend.begin() as uow:
        assert await uow.supplements.of_tip(read_for) == []
        await uow.supplements.add(
            Supplement(kept.supplement_id, read_for, FactsUpdate(needs=["legal"]), None, now)
        )
        assert await uow.supplements.of_tip(read_for) == [], "the table kept the first of that id"
    async with backend.begin() as uow:
        assert await uow.supplements.of_tip(read_for) == []


async def test_overrides_come_back_oldest_first(backend: Backend) -> None:
    decision = new_decision()
    await keep(backend, decision)
    now = utc_now()
    first, second = (
        Override(
            uuid.uuid4(), decision.tip_id, revision, Urgency.NON_URGENT, Urgency.URGENT, OverrideReason.OTHER,
            None, SUPERVISOR, now + timedelta(seconds=revision),
        )
        for revision in (2, 3)
    )  # fmt: skip
    async with backend.begin() as uow:
        await uow.overrides.add(second)
        await uow.overrides.add(first)
    async with backend.begin() as uow:
        assert await uow.overrides.of_tip(decision.tip_id) == [first, second]


async def test_a_plan_comes_back_as_it_was_kept_and_as_it_was_changed_with_its_actions_audited(
    backend: Backend,
) -> None:
    decision = new_decision(**URGENT)
    plan = new_plan(decision, minutes_ago=12)
    await keep(backend, decision, plan)
    async with backend.begin() as uow:
        assert await uow.plans.get(plan.plan_id) == plan
        plan.flag_due_steps(utc_now(), TEMPLATES)
        plan.acknowledge(SUPERVISOR, utc_now(), TEMPLATES)
        plan.complete_step("safety_assessment", "safe_for_now", SUPERVISOR, utc_now(), TEMPLATES)
        await uow.plans.save(plan)
    assert plan.actions == []
    async with backend.begin() as uow:
        assert await uow.plans.get(plan.plan_id) == plan
        assert await uow.plans.get(uuid.uuid4()) is None
    assert await backend.audited_actions(plan.plan_id) == [
        ("acknowledged", None), ("step_completed", "notify_supervisor"), ("step_completed", "safety_assessment"),
    ]  # fmt: skip


async def test_a_tip_has_one_open_plan_at_most_and_a_superseded_one_makes_way(backend: Backend) -> None:
    decision = new_decision(**URGENT)
    first = new_plan(decision)
    await keep(backend, decision, first)
    with pytest.raises(PlanAlreadyOpen):
        async with backend.begin() as uow:
            await uow.plans.add(new_plan(decision, Urgency.NON_URGENT))

    successor = new_plan(decision, Urgency.NON_URGENT)
    async with backend.begin() as uow:
        current = await uow.plans.open_plan_of_tip(decision.tip_id)
        assert current == first
        assert current is not None
        current.supersede(successor, uuid.uuid4(), utc_now())
        await uow.plans.save(current)
        await uow.plans.add(successor)
    async with backend.begin() as uow:
        assert await uow.plans.open_plan_of_tip(decision.tip_id) == successor
        assert await uow.plans.get(first.plan_id) == current
        assert await uow.plans.open_plan_of_tip(uuid.uuid4()) is None


async def test_due_plans_are_the_open_ones_with_a_flag_reached_and_not_raised_most_overdue_first(
    backend: Backend,
) -> None:
    overdue, late, fresh, flagged, superseded = (new_decision(**URGENT) for _ in range(5))
    plans = {
        "overdue": new_plan(overdue, minutes_ago=30),
        "late": new_plan(late, minutes_ago=4),
        "fresh": new_plan(fresh),
        "flagged": new_plan(flagged, minutes_ago=4),
        "superseded": new_plan(superseded, minutes_ago=30),
    }
    plans["flagged"].flag_due_steps(utc_now(), TEMPLATES)
    plans["superseded"].supersede(new_plan(superseded, Urgency.NON_URGENT), uuid.uuid4(), utc_now())
    for decision, plan in zip((overdue, late, fresh, flagged, superseded), plans.values(), strict=True):
        await keep(backend, decision, plan)

    async with backend.begin() as uow:
        assert [plan.plan_id for plan in await uow.plans.due(utc_now(), 10)] == [
            plans["overdue"].plan_id, plans["late"].plan_id,
        ]  # fmt: skip
        assert await uow.plans.due(utc_now(), 1) == [plans["overdue"]]
        assert [plan.plan_id for plan in await uow.plans.due(utc_now() + timedelta(minutes=5), 10)] == [
            plans["overdue"].plan_id, plans["late"].plan_id, plans["flagged"].plan_id, plans["fresh"].plan_id,
        ]  # fmt: skip


async def test_a_tips_key_opens_until_it_is_shredded_and_never_for_an_unknown_tip(backend: Backend) -> None:
    tip_id = uuid.uuid4()
    key = await backend.create_key(tip_id)
    async with backend.begin() as uow:
        opened = await uow.keys.open(tip_id, purpose="triage.classify", fields=["narrative"])
        assert await uow.keys.open(uuid.uuid4(), purpose="triage.classify", fields=["narrative"]) is None
    assert opened is not None
    assert opened.unseal("narrative", key.seal("narrative", "kept")) == "kept"
    await backend.shred_key(tip_id)
    async with backend.begin() as uow:
        assert await uow.keys.open(tip_id, purpose="triage.classify", fields=["narrative"]) is None


async def test_a_transaction_that_fails_leaves_nothing_behind(backend: Backend) -> None:
    decision = new_decision()

    async def abandon() -> None:
        async with backend.begin() as uow:
            await uow.decisions.add(decision)
            await uow.plans.add(new_plan(decision))
            raise RuntimeError("abandoned")

    with pytest.raises(RuntimeError):
        await abandon()
    async with backend.begin() as uow:
        assert await uow.decisions.get(decision.tip_id) is None
        assert await uow.plans.open_plan_of_tip(decision.tip_id) is None
