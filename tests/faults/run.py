"""The fault suite: tips through a running `lantern up` while faults are injected, then the history
checker (`tests/faults/history.py`).

    python -m tests.faults.run                  # make faults: both databases, every fault, a random mix
    python -m tests.faults.run --short          # the form `make test-slow` runs (tests/faults/test_faults.py)
    python -m tests.faults.run --seed 1234      # the random mix again, as a recorded seed drew it

Each fault alone first (the run waits until every service is healthy after it), then the random mix:
faults on a schedule drawn from the seed that does not wait for recovery, overlapping within the caps
of ``MixSchedule``.

Clients send each tip with an idempotency key and send it again, with the same key, after any answer
that is not a 202 or a 4xx (a reset connection, a timeout, a 503), as a real channel would.

Faults: SIGKILL of each service (intake mid-request, a relay mid-batch); PostgreSQL killed (embedded,
`lantern up` starts it again) or cut by a TCP proxy (a shared server); the broker killed (Tansu comes
back empty); delay and resets between the services and the database or the broker (the proxy); a slow
consumer (a service stopped with SIGSTOP for longer than its session timeout); the deadline clocks
jumping forward (the stored deadlines of open plan steps and queued reviews moved two hours back:
the machine's clock is shared, so the jump is made where the clocks read it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka.admin import AIOKafkaAdminClient

from lantern.infra import drop_database, ensure_database, free_port
from lantern.launcher import LaunchedStack, launch
from schemas import topics
from services.common.roles import drop_roles, role_prefix
from tests.factories import tip_body
from tests.faults.history import MIX, Attempt, Fault, History, Verdict, check, observe, settle
from tests.faults.proxy import Faults, ProxyThread

SERVICES = ("intake", "triage", "disclosure", "referral", "monitoring")
OTTAWA = {"country": "CA", "province": "ON", "city": "Ottawa"}
NO_CONSENT = {"law_enforcement": False, "share_identity": False, "service_referral": True, "statistics": True}
MINOR = {"minor_involved": "yes", "trafficking_types": ["sex"]}
SHARED_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class System:
    """A running `lantern up` and the proxies in front of its database and broker, if any."""

    stack: LaunchedStack
    database: str
    broker_proxy: ProxyThread | None
    database_proxy: ProxyThread | None
    specialist: str
    in_flight: int = 0
    """Requests the clients have sent to intake and not yet had answered."""

    @property
    def owner_url(self) -> str:
        return str(self.stack.endpoints["database_url"])

    async def healthy(self, services: tuple[str, ...] = SERVICES, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                answers = []
                for name in services:
                    url = self.stack.endpoints["operations"][name]
                    try:
                        answers.append((await client.get(f"{url}/health", timeout=2)).status_code == 200)
                    except httpx.HTTPError:
                        answers.append(False)
                if all(answers):
                    return True
                await asyncio.sleep(0.2)
        return False

    async def outbox_busy(self, service: str, timeout: float = 10) -> bool:
        """Wait until the service's relay has rows to send: a kill then lands mid-batch, or close to it."""
        url = self.stack.endpoints["operations"][service]
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    checks = (await client.get(f"{url}/health", timeout=1)).json()["checks"]
                    if int(checks.get("outbox_unsent", "0")) > 0:
                        return True
                await asyncio.sleep(0.005)
        return False


Injector = Callable[[System, random.Random], Awaitable[None]]
"""Injects one fault and returns once the part it hit is back (a service answers its health again,
PostgreSQL takes connections, a new broker has its topics), not once the whole system is."""

# Long enough for a service to start again on a machine whose load average is 40: a fault that let go
# of its part earlier let the next fault hit it again before it was up (intake was out for minutes).
PART_BACK_SECONDS = 300


async def request_in_flight(system: System, timeout: float = 10) -> bool:
    """Wait until a client has a request at intake without its answer: a kill then lands mid-request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if system.in_flight > 0:
            return True
        await asyncio.sleep(0.001)
    return False


async def running_pid(find: Callable[[], int], timeout: float = PART_BACK_SECONDS) -> int:
    """The process id ``find`` names, once there is one: a part being started again has none yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return find()
        except (LookupError, OSError, ValueError, psutil.Error):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def kill_service(name: str) -> Injector:
    async def inject(system: System, _rng: random.Random) -> None:
        if name == "intake":
            await request_in_flight(system)
        os.kill(await running_pid(lambda: system.stack.service_pid(name)), signal.SIGKILL)
        await asyncio.sleep(1)
        await system.healthy((name,), timeout=PART_BACK_SECONDS)

    return inject


async def kill_relay_mid_batch(system: System, _rng: random.Random) -> None:
    await system.outbox_busy("intake")
    os.kill(await running_pid(lambda: system.stack.service_pid("intake")), signal.SIGKILL)
    await asyncio.sleep(1)
    await system.healthy(("intake",), timeout=PART_BACK_SECONDS)


async def database_answers(url: str, timeout: float = PART_BACK_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = await asyncpg.connect(url, timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.2)
            continue
        await connection.close()
        return True
    return False


async def kill_postgres(system: System, _rng: random.Random) -> None:
    os.kill(await running_pid(system.stack.postgres_pid), signal.SIGKILL)
    await asyncio.sleep(2)
    await database_answers(system.owner_url)


async def cut_postgres(system: System, _rng: random.Random) -> None:
    assert system.database_proxy is not None
    system.database_proxy.cut()
    await asyncio.sleep(5)
    system.database_proxy.heal()
    await database_answers(system.owner_url)


async def kill_broker(system: System, _rng: random.Random) -> None:
    killed = await running_pid(system.stack.broker_pid)
    os.kill(killed, signal.SIGKILL)
    await asyncio.sleep(2)
    await running_pid(lambda: _other_than(killed, system.stack.broker_pid()))
    await broker_has_topics(system.stack.endpoints["kafka_bootstrap_servers"])


def _other_than(old: int, pid: int) -> int:
    if pid == old:
        raise LookupError("the killed broker")
    return pid


async def broker_has_topics(bootstrap: str, timeout: float = PART_BACK_SECONDS) -> bool:
    """The broker started again answers, and `lantern up` has made its topics on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            if set(topics.ALL_TOPICS) <= set(await admin.list_topics()):
                return True
        except Exception:  # a broker on its way back fails in many ways
            pass
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.5)
    return False


def network(proxy_of: Callable[[System], ProxyThread | None], faults: Faults, seconds: float = 6) -> Injector:
    async def inject(system: System, _rng: random.Random) -> None:
        proxy = proxy_of(system)
        assert proxy is not None
        proxy.set_faults(Faults(faults.delay_seconds, faults.reset_probability))
        await asyncio.sleep(seconds)
        proxy.heal()

    return inject


CONSUMERS = ("triage", "disclosure", "monitoring", "referral")


def slow_consumer(target: str | None = None) -> Injector:
    """A consumer stopped (SIGSTOP) for longer than its session: ``target``, or one drawn."""

    async def inject(system: System, rng: random.Random) -> None:
        name = target or rng.choice(CONSUMERS)
        pid = await running_pid(lambda: system.stack.service_pid(name))
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(8)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        await system.healthy((name,), timeout=PART_BACK_SECONDS)

    return inject


async def clock_jump(system: System, _rng: random.Random) -> None:
    """The deadline clocks jump two hours forward: every open deadline falls due at once."""
    # In the mix PostgreSQL may be down, cut or resetting connections: the jump waits and tries again
    # (a deadline moved twice is as due as one moved once).
    for _attempt in range(5):
        await database_answers(system.owner_url)
        try:
            await _move_deadlines_back(system)
            break
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            await asyncio.sleep(1)
    await asyncio.sleep(3)


async def _move_deadlines_back(system: System) -> None:
    connection = await asyncpg.connect(system.owner_url)
    try:
        for statement in (
            "UPDATE triage.plan_steps SET at_risk_at = at_risk_at - interval '2 hours',"
            " deadline = deadline - interval '2 hours' WHERE status = 'open'",
            "UPDATE disclosure.cases SET queued_at = queued_at - interval '2 hours',"
            " review_due_at = review_due_at - interval '2 hours' WHERE queue IS NOT NULL AND reviewed_at IS NULL",
        ):
            # The clocks update the same rows as they flag them: a deadlock is tried again.
            for _attempt in range(10):
                try:
                    await connection.execute(statement)
                    break
                except asyncpg.DeadlockDetectedError:
                    await asyncio.sleep(0.2)
    finally:
        connection.terminate()


def faults_for(database: str) -> dict[str, Injector]:
    by_name: dict[str, Injector] = {f"kill {name}": kill_service(name) for name in SERVICES}
    by_name["kill relay mid-batch"] = kill_relay_mid_batch
    if database == "embedded":
        by_name["kill PostgreSQL"] = kill_postgres
    else:
        by_name["cut PostgreSQL"] = cut_postgres
        by_name["delay to PostgreSQL"] = network(lambda s: s.database_proxy, Faults(delay_seconds=0.05))
        by_name["resets to PostgreSQL"] = network(lambda s: s.database_proxy, Faults(reset_probability=0.02))
        by_name["delay to broker"] = network(lambda s: s.broker_proxy, Faults(delay_seconds=0.05))
        by_name["resets to broker"] = network(lambda s: s.broker_proxy, Faults(reset_probability=0.02))
    by_name["kill broker (wipe)"] = kill_broker
    by_name["slow consumer"] = slow_consumer()
    by_name["clock jump"] = clock_jump
    return by_name


# What each fault holds while it is out, and how many faults may hold one thing at once: the mix
# overlaps faults but leaves the system able to make progress. PostgreSQL or the broker is out until
# every service is healthy again (up to PART_BACK_SECONDS); another fault, until its part is back.
DOWN = "PostgreSQL or the broker down"
A_SERVICE = "a service killed or stopped"
CAPS = {DOWN: 1, A_SERVICE: 2}
SERVICE_HIT = {f"kill {name}": name for name in SERVICES} | {"kill relay mid-batch": "intake"}
MIX_GAP_SECONDS = (1.0, 5.0)
"""The mix waits a gap drawn from this range between one injection and the next (3 s on average),
whether or not the system has recovered."""


def holds(name: str, target: str | None) -> set[str]:
    """What the fault ``name`` (on the service ``target``, if it hits one) holds while it is out."""
    if target is not None:
        return {A_SERVICE, f"service {target}"}
    if name in ("kill PostgreSQL", "kill broker (wipe)"):
        return {DOWN}
    if name == "cut PostgreSQL":
        return {DOWN, "the database proxy"}
    if name.endswith("to PostgreSQL"):
        return {"the database proxy"}
    if name.endswith("to broker"):
        return {"the broker proxy"}
    return {name}


@dataclass
class MixSchedule:
    """When the random mix injects and what, drawn from its own generator seeded with the run's seed
    (the clients' draws do not shift it). A fault whose part is taken (a cap is full) is not drawn."""

    names: list[str]
    seed: int
    out: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(f"mix {self.seed}")

    def gap(self) -> float:
        return self._random.uniform(*MIX_GAP_SECONDS)

    def fits(self, name: str, target: str | None) -> bool:
        return all(self.out[part] < CAPS.get(part, 1) for part in holds(name, target))

    def targets(self, name: str) -> list[str | None]:
        if name in SERVICE_HIT:
            return [SERVICE_HIT[name]]
        if name == "slow consumer":
            return list(CONSUMERS)
        return [None]

    def draw(self) -> tuple[str, str | None] | None:
        """A fault that fits beside those out, and its target; None if nothing fits now."""
        allowed = {
            name: fitting
            for name in sorted(self.names)
            if (fitting := [target for target in self.targets(name) if self.fits(name, target)])
        }
        if not allowed:
            return None
        name = self._random.choice(sorted(allowed))
        return name, self._random.choice(allowed[name])

    def take(self, name: str, target: str | None) -> None:
        self.out.update(holds(name, target))

    def release(self, name: str, target: str | None) -> None:
        self.out.subtract(holds(name, target))


SHORT = ("kill intake", "kill triage", "kill relay mid-batch", "kill PostgreSQL", "kill broker (wipe)",
         "slow consumer", "clock jump")  # fmt: skip


@dataclass
class Load:
    """Clients sending tips, each retried with its idempotency key until it is accepted."""

    system: System
    history: History
    rng: random.Random
    rate_per_second: float = 5.0
    label: str = "none"
    sent: int = 0
    lines: int = 20
    """Requests in flight at once, as a hotline has so many lines: a slow intake makes tips wait to be
    sent rather than pile up in the client's connection pool, whose scheduling grows with the square of
    its queue (thousands queued took the load generator's whole core and timed its own requests out)."""
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _free_lines: asyncio.Semaphore | None = None

    def body(self) -> tuple[dict[str, Any], bool]:
        kind = self.rng.random()
        if kind < 0.35:
            return tip_body(location=OTTAWA, channel="phone", assessment=MINOR, consent=NO_CONSENT), True
        if kind < 0.6:
            consent = {**NO_CONSENT, "law_enforcement": True}
            return tip_body(location=OTTAWA, channel="phone", consent=consent, victim_profile=None), True
        return tip_body(), False

    async def run(self, until_sent: int | None = None) -> None:
        tasks: set[asyncio.Task[None]] = set()
        self._free_lines = asyncio.Semaphore(self.lines)
        async with httpx.AsyncClient(
            base_url=self.system.stack.endpoints["intake_url"],
            timeout=15,
            limits=httpx.Limits(max_connections=self.lines, max_keepalive_connections=self.lines),
        ) as client:
            while not self._stop.is_set() and (until_sent is None or self.sent < until_sent):
                key = f"fault-{uuid.uuid4()}"
                self.history.keys[key] = self.label
                body, staff = self.body()
                task = asyncio.create_task(self._submit(client, key, body, staff))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                self.sent += 1
                await asyncio.sleep(self.rng.expovariate(self.rate_per_second))
            if tasks:
                await asyncio.gather(*tasks)

    def stop(self) -> None:
        self._stop.set()

    async def _submit(self, client: httpx.AsyncClient, key: str, body: dict[str, Any], staff: bool) -> None:
        headers = {"Idempotency-Key": key}
        if staff:
            headers["Authorization"] = f"Bearer {self.system.specialist}"
        first_sent: float | None = None
        backoff = 0.5
        assert self._free_lines is not None
        # A caller keeps trying for ten minutes from the first attempt, not from being offered a line.
        while first_sent is None or time.monotonic() < first_sent + 600:
            async with self._free_lines:
                sent_at = time.monotonic()
                first_sent = first_sent or sent_at
                self.system.in_flight += 1
                try:
                    answer = await client.post("/v1/tips", json=body, headers=headers)
                except httpx.HTTPError as error:
                    self.history.record(Attempt(key, sent_at, time.monotonic(), None, type(error).__name__))
                    answer = None
                finally:
                    self.system.in_flight -= 1
            if answer is not None:
                tip_id = answer.json().get("tip_id") if answer.status_code == 202 else None
                self.history.record(Attempt(key, sent_at, time.monotonic(), answer.status_code, None, tip_id))
                if answer.status_code == 202 or (
                    400 <= answer.status_code < 500 and answer.status_code != 429
                ):
                    return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)


async def drive(
    system: System, names: list[str], injectors: dict[str, Injector], rng: random.Random, history: History,
    mix_tips: int, seed: int, rate: float = 5.0,
) -> None:  # fmt: skip
    """Each fault alone under load, then (if ``mix_tips``) faults drawn at random while that many tips go."""
    load = Load(system, history, rng, rate_per_second=rate)
    flowing = asyncio.create_task(load.run())
    try:
        await asyncio.sleep(3)
        for name in names:
            await inject_alone(system, name, injectors[name], rng, history, load)
            await asyncio.sleep(3)
    finally:
        load.stop()
        await flowing
    if mix_tips:
        await mix(system, injectors, rng, history, mix_tips, seed, rate)


async def inject_alone(
    system: System, name: str, injector: Injector, rng: random.Random, history: History, load: Load,
    window: str = "",
) -> None:  # fmt: skip
    """One fault, and the wait until the whole system is healthy again. Tips first sent meanwhile
    count in its own row, or in ``window``'s if given."""
    print(f"  fault: {name}", flush=True)
    if not window:
        load.label = name
    started = time.monotonic()
    try:
        await injector(system, rng)
        await system.healthy()
    finally:
        history.faults.append(Fault(name, started, time.monotonic(), window=window))
        if not window:
            load.label = "none"


async def mix(
    system: System, injectors: dict[str, Injector], rng: random.Random, history: History, tips: int, seed: int,
    rate: float,
) -> None:  # fmt: skip
    """Faults on a schedule that does not wait for recovery, while ``tips`` tips go: they overlap
    within the caps of ``MixSchedule``. Each runs in a task of its own until its part is back."""
    schedule = MixSchedule(sorted(injectors), seed)
    load = Load(system, history, rng, rate_per_second=rate, label=MIX)
    flowing = asyncio.create_task(load.run(until_sent=tips))
    out: set[asyncio.Task[None]] = set()
    targets = random.Random(f"mix targets {seed}")

    async def inject(name: str, target: str | None) -> None:
        injector = slow_consumer(target) if name == "slow consumer" else injectors[name]
        started = time.monotonic()
        try:
            await injector(system, targets)
            if DOWN in holds(name, target):
                # PostgreSQL or the broker is down, for the services, until they have reconnected.
                await system.healthy(timeout=PART_BACK_SECONDS)
        except Exception as error:  # said and counted: the run goes on
            history.failed_injections.append(f"{name}: {type(error).__name__}")
            print(f"  fault {name} failed: {type(error).__name__}: {error}", flush=True)
        finally:
            schedule.release(name, target)
            history.faults.append(Fault(name, started, time.monotonic(), window=MIX, target=target))

    try:
        while True:
            await asyncio.wait({flowing}, timeout=schedule.gap())
            if flowing.done():
                break
            drawn = schedule.draw()
            if drawn is None:
                history.skipped_draws += 1
                continue
            name, target = drawn
            schedule.take(name, target)
            print(
                f"  fault: {name}{f' ({target})' if target and name == 'slow consumer' else ''}", flush=True
            )
            task = asyncio.create_task(inject(name, target))
            out.add(task)
            task.add_done_callback(out.discard)
    finally:
        await flowing
        if out:
            await asyncio.gather(*out)


@contextlib.asynccontextmanager
async def running_system(home: Path, database: str, seed: int) -> Any:
    """`lantern up` on embedded PostgreSQL or on the shared server behind a proxy; the broker behind one."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    environment |= {
        "LANTERN_KAFKA_SESSION_TIMEOUT_MS": "3000",
        "LANTERN_PUBLIC_RATE_LIMIT": "1000000",
        "LANTERN_KAFKA_SETTLING_SECONDS": "1.0",  # Tansu's hold (what `lantern up` gives without it)
    }
    # Network faults go through proxies (one Python loop each, in a thread) on the shared server's
    # run: on the embedded one, PostgreSQL listens on a socket, and the broker is left direct.
    broker_proxy = database_proxy = None
    extra: tuple[str, ...] = ()
    name = f"lantern_faults_{uuid.uuid4().hex[:12]}"
    if database == "shared":
        kafka_port = free_port()
        broker_proxy = ProxyThread(free_port(), "127.0.0.1", kafka_port, seed=seed).start()
        database_proxy = ProxyThread(free_port(), "127.0.0.1", 5432, seed=seed).start()
        url = await ensure_database(SHARED_SERVER, name)
        environment["DATABASE_URL"] = url.replace(":5432/", f":{database_proxy.listen_port}/")
        extra = ("--kafka-port", str(kafka_port), "--kafka-advertised-port", str(broker_proxy.listen_port))
    stack = await asyncio.to_thread(launch, home, environment, 600, 8, extra)
    try:
        tokens = json.loads((home / "dev-tokens.json").read_text())
        yield System(stack, database, broker_proxy, database_proxy, tokens["specialist"])
    finally:
        await asyncio.to_thread(stack.stop)
        if broker_proxy is not None:
            broker_proxy.stop()
        if database_proxy is not None:
            database_proxy.stop()
            await drop_database(SHARED_SERVER, name)
            await drop_roles(SHARED_SERVER, role_prefix(name))


async def run_suite(
    home: Path, database: str, names: list[str] | None, mix_tips: int, seed: int, rate: float = 5.0,
) -> Verdict:  # fmt: skip
    rng = random.Random(seed)
    history = History()
    async with running_system(home, database, seed) as system:
        injectors = faults_for(database)
        wall_offset = time.time() - time.monotonic()
        await drive(system, names if names is not None else list(injectors), injectors, rng, history, mix_tips, seed,
                    rate)  # fmt: skip
        accepted = {tip for tips in history.accepted().values() for tip in tips}
        await settle(system.owner_url, accepted)
        # The clocks and the relays have flagged and republished what they had to; read it all.
        await asyncio.sleep(3)
        observed = await observe(system.stack.endpoints["kafka_bootstrap_servers"], system.owner_url)
        return check(history, observed, wall_offset)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="the form `make test-slow` runs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--mix-tips", type=int, default=None)
    parser.add_argument("--database", choices=("embedded", "shared", "both"), default="both")
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument(
        "--phase", choices=("single", "mix", "both"), default="both",
        help="each fault alone, the random mix, or both (the default)",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, default=None, help="tips a second (5; 2 with --short)")
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.SystemRandom().randrange(2**31)
    databases = ("embedded", "shared") if arguments.database == "both" else (arguments.database,)
    mix_tips = arguments.mix_tips if arguments.mix_tips is not None else (0 if arguments.short else 500)
    if arguments.phase == "single":
        mix_tips = 0
    rate = arguments.rate if arguments.rate is not None else (2.0 if arguments.short else 5.0)
    print(f"fault suite: seed {seed} (run again with --seed {seed}), {rate} tips a second", flush=True)
    failed = False
    for database in databases:
        home = (
            (arguments.home or Path(os.environ.get("TMPDIR", "/tmp")))
            / f"faults-{database}-{seed}"
            / ".lantern"
        )
        print(f"{database} PostgreSQL:", flush=True)
        names = [] if arguments.phase == "mix" else list(SHORT) if arguments.short else None
        verdict = asyncio.run(run_suite(home, database, names, mix_tips, seed, rate=rate))
        print(verdict.report(), flush=True)
        failed = failed or not verdict.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
