"""The fault suite: tips through a running `lantern up` while faults are injected, then the history
checker (`tests/faults/history.py`).

    python -m tests.faults.run                  # make faults: both databases, every fault, a random mix
    python -m tests.faults.run --short          # the form `make test-slow` runs (tests/faults/test_faults.py)
    python -m tests.faults.run --seed 1234      # the random mix again, as a recorded seed drew it

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from lantern.infra import drop_database, ensure_database, free_port
from lantern.launcher import LaunchedStack, launch
from services.common.roles import drop_roles, role_prefix
from tests.factories import tip_body
from tests.faults.history import Attempt, Fault, History, Verdict, check, observe, settle
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


async def request_in_flight(system: System, timeout: float = 10) -> bool:
    """Wait until a client has a request at intake without its answer: a kill then lands mid-request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if system.in_flight > 0:
            return True
        await asyncio.sleep(0.001)
    return False


def kill_service(name: str) -> Injector:
    async def inject(system: System, _rng: random.Random) -> None:
        if name == "intake":
            await request_in_flight(system)
        os.kill(system.stack.service_pid(name), signal.SIGKILL)
        await asyncio.sleep(1)
        await system.healthy((name,))

    return inject


async def kill_relay_mid_batch(system: System, _rng: random.Random) -> None:
    await system.outbox_busy("intake")
    os.kill(system.stack.service_pid("intake"), signal.SIGKILL)
    await asyncio.sleep(1)
    await system.healthy(("intake",))


async def kill_postgres(system: System, _rng: random.Random) -> None:
    os.kill(system.stack.postgres_pid(), signal.SIGKILL)
    await asyncio.sleep(2)
    await system.healthy()


async def cut_postgres(system: System, _rng: random.Random) -> None:
    assert system.database_proxy is not None
    system.database_proxy.cut()
    await asyncio.sleep(5)
    system.database_proxy.heal()
    await system.healthy()


async def kill_broker(system: System, _rng: random.Random) -> None:
    os.kill(system.stack.broker_pid(), signal.SIGKILL)
    await asyncio.sleep(2)
    await system.healthy()


def network(proxy_of: Callable[[System], ProxyThread | None], faults: Faults, seconds: float = 6) -> Injector:
    async def inject(system: System, _rng: random.Random) -> None:
        proxy = proxy_of(system)
        assert proxy is not None
        proxy.set_faults(Faults(faults.delay_seconds, faults.reset_probability))
        await asyncio.sleep(seconds)
        proxy.heal()
        await system.healthy()

    return inject


async def slow_consumer(system: System, rng: random.Random) -> None:
    name = rng.choice(("triage", "disclosure", "monitoring", "referral"))
    pid = system.stack.service_pid(name)
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(8)
    finally:
        os.kill(pid, signal.SIGCONT)
    await system.healthy()


async def clock_jump(system: System, _rng: random.Random) -> None:
    """The deadline clocks jump two hours forward: every open deadline falls due at once."""
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
        await connection.close()
    await asyncio.sleep(3)


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
    by_name["slow consumer"] = slow_consumer
    by_name["clock jump"] = clock_jump
    return by_name


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
    mix_tips: int, fault_every: float, rate: float = 5.0,
) -> None:  # fmt: skip
    """Each fault alone under load, then (if ``mix_tips``) faults drawn at random while that many tips go."""
    load = Load(system, history, rng, rate_per_second=rate)
    flowing = asyncio.create_task(load.run())
    try:
        await asyncio.sleep(3)
        for name in names:
            await _inject(system, name, injectors[name], rng, history, load)
            await asyncio.sleep(3)
    finally:
        load.stop()
        await flowing
    if not mix_tips:
        return
    mix = Load(system, history, rng, rate_per_second=rate, label="random mix")
    flowing = asyncio.create_task(mix.run(until_sent=mix_tips))
    try:
        while not flowing.done():
            await asyncio.sleep(rng.uniform(0.5, fault_every))
            if flowing.done():
                break
            name = rng.choice(sorted(injectors))
            await _inject(system, name, injectors[name], rng, history, mix, keep_label=True)
    finally:
        await flowing


async def _inject(
    system: System, name: str, injector: Injector, rng: random.Random, history: History, load: Load,
    keep_label: bool = False,
) -> None:  # fmt: skip
    print(f"  fault: {name}", flush=True)
    if not keep_label:
        load.label = name
    started = time.monotonic()
    try:
        await injector(system, rng)
    finally:
        history.faults.append(Fault("random mix" if keep_label else name, started, time.monotonic()))
        if not keep_label:
            load.label = "none"


@contextlib.asynccontextmanager
async def running_system(home: Path, database: str, seed: int) -> Any:
    """`lantern up` on embedded PostgreSQL or on the shared server behind a proxy; the broker behind one."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
    }
    environment |= {"LANTERN_KAFKA_SESSION_TIMEOUT_MS": "3000", "LANTERN_PUBLIC_RATE_LIMIT": "1000000"}
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
    home: Path, database: str, names: list[str] | None, mix_tips: int, seed: int, fault_every: float = 4.0,
    rate: float = 5.0,
) -> Verdict:  # fmt: skip
    rng = random.Random(seed)
    history = History()
    async with running_system(home, database, seed) as system:
        injectors = faults_for(database)
        wall_offset = time.time() - time.monotonic()
        await drive(system, names if names is not None else list(injectors), injectors, rng, history, mix_tips,
                    fault_every, rate)  # fmt: skip
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
