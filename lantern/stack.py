"""``lantern up``: the whole system on one machine, started the way a newcomer starts it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType

import asyncpg
import httpx

import services
from lantern.agency import provision
from lantern.audit import local_audit_environment
from lantern.children import dies_with_this_process
from lantern.database import roles_kept_in, set_up
from lantern.infra import EmbeddedPostgres, TansuBroker, ensure_database, port_is_open
from schemas.topics import ALL_TOPICS
from services.common.auth import Role, create_token, find_staff
from services.common.kafka import TANSU_SETTLING_SECONDS, ensure_topics
from services.common.roles import PUBLIC_DIRECTORY, UNSEALING, ServiceRoles
from services.common.sealing import KeyEncryptionKey
from services.common.signing import generate_key_files
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.commands import import_file

SERVICES_DIR = Path(services.__file__).parent
SERVICE_NAMES = ("intake", "triage", "disclosure", "referral", "monitoring")
DEFAULT_PORTS = {
    "intake": 8080, "triage": 8081, "disclosure": 8082, "referral": 8083, "monitoring": 8084, "workbench": 8085,
    PUBLIC_DIRECTORY: 8086,
}  # fmt: skip
# The staff workbench is a web application, not an event service: no broker, no signing key, no KEK.
WORKBENCH = "workbench"
DEFAULT_KAFKA_PORT = 9092
# Each service's private operations listener (metrics, detailed health) is its public port plus this.
OPERATIONS_PORT_OFFSET = 100
RESTART_BACKOFF_CEILING = 30.0
# A service that ran this long before it died is not crash-looping: it starts again at the shortest
# back-off, however often it died before.
STABLE_RUN_SECONDS = RESTART_BACKOFF_CEILING
# How often `lantern up` asks each service whether its consuming has stalled, and how long a stalled
# service may take to stop on SIGTERM before it is killed.
STALL_CHECK_SECONDS = 10.0
STOP_GRACE_SECONDS = 10.0
INFRASTRUCTURE_BACKOFF_CEILING = 5.0
# What a service gets when `lantern up` dies without stopping it (SIGKILL): no one is left to kill a
# service that a SIGTERM does not end, and a SIGKILL is what the fault suite shows the services survive.
ON_OUR_DEATH = signal.SIGKILL
READY_MESSAGE = "ready; Ctrl-C stops everything"


def say(message: str) -> None:
    print(f"lantern: {message}", flush=True)


@dataclass
class ServiceProcess:
    name: str
    port: int
    operations_port: int
    environment: dict[str, str]
    log_path: Path
    module: str | None = None  # services.<name> unless said
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    stopping_since: float = 0.0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def operations_url(self) -> str:
        return f"http://127.0.0.1:{self.operations_port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module or f"services.{self.name}"],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=SERVICES_DIR.parent,
                preexec_fn=dies_with_this_process(ON_OUR_DEATH),
            )
        self.started_at = time.monotonic()

    def healthy(self) -> bool:
        """Healthy, and its consumers hold their partitions: the first tip will not wait for the group."""
        try:
            answer = httpx.get(f"{self.operations_url}/health", timeout=1)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.json()["checks"].get("consumers") != "joining"

    def stalled(self) -> bool:
        """Its health says consuming has stalled: a round hangs, or none runs while events wait.
        A service that does not answer is not said stalled: it may be busy, and a dead one is seen."""
        try:
            answer = httpx.get(f"{self.operations_url}/health", timeout=2)
            return bool(answer.json().get("checks", {}).get("consuming") == "stalled")
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    def stop(self, grace: float) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Watched:
    """A piece of infrastructure `lantern up` started, and when to try starting it again."""

    name: str
    running: Callable[[], bool]
    failures: int = 0
    restarts: int = 0
    next_start: float = 0.0

    def delay(self) -> float:
        return min(0.5 * 2.0**self.failures, INFRASTRUCTURE_BACKOFF_CEILING)


@dataclass
class StackOptions:
    home: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_advertised_port: int | None = None
    operations_offset: int = OPERATIONS_PORT_OFFSET
    # Tansu 0.6 answers a waiting fetch when records arrive at 25 ms as at 5 (hop p50 about 3 ms
    # either way), but an idle consumer asks five times less often: at 5 ms the idle stack took 45%
    # of a core (Tansu 19%, each consumer 6-7%), at 25 ms 25%. At 100 ms a hop takes 25 ms.
    fetch_max_wait_ms: int = field(
        default_factory=lambda: int(os.environ.get("LANTERN_KAFKA_FETCH_MAX_WAIT_MS", "25"))
    )
    session_timeout_ms: int = field(
        default_factory=lambda: int(os.environ.get("LANTERN_KAFKA_SESSION_TIMEOUT_MS", "6000"))
    )

    def operations_port(self, name: str) -> int:
        """The service's private operations listener: its public port plus the offset."""
        return self.ports[name] + self.operations_offset


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.home = options.home.resolve()
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.services: list[ServiceProcess] = []
        self.stopping = False
        self.next_stall_check = 0.0
        self.postgres_watch = Watched("PostgreSQL", lambda: self.postgres is None or self.postgres.running())
        self.broker_watch = Watched("the broker", lambda: self.broker is None or self.broker.running())

    def run(self) -> int:
        # The supervisor reads every service's health every STALL_CHECK_SECONDS: a line per request
        # would bury what `lantern up` has to say.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        try:
            self._start()
            self._supervise()
            return 0
        finally:
            self._stop()

    def _request_stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("DATABASE_URL") or self._start_postgres()
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or self._start_broker()
        roles = roles_kept_in(self.home / "db-roles.json", database_url)
        asyncio.run(self._prepare(database_url, roles, bootstrap))
        kek_settings = self._key_encryption_key()
        audit_settings = local_audit_environment(self.home)
        signing_settings = self._signing_keys()
        tokens = dev_tokens(database_url, self.home / "dev-tokens.json")
        environment = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LANTERN_KAFKA_FETCH_MAX_WAIT_MS": str(self.options.fetch_max_wait_ms),
            "LANTERN_KAFKA_SESSION_TIMEOUT_MS": str(self.options.session_timeout_ms),
            "LANTERN_KAFKA_SETTLING_SECONDS": settling_seconds(os.environ, self.broker is not None),
            "PYTHONUNBUFFERED": "1",
            "LANTERN_PUBLIC_RATE_LIMIT": os.environ.get("LANTERN_PUBLIC_RATE_LIMIT", "60"),
            "LANTERN_REGISTRATION_RATE_LIMIT": os.environ.get("LANTERN_REGISTRATION_RATE_LIMIT", "60"),
            "LANTERN_SERVICE_URLS": json.dumps(
                {name: f"http://127.0.0.1:{self.options.operations_port(name)}" for name in SERVICE_NAMES}
            ),
        }
        for name in SERVICE_NAMES:
            port, operations = self.options.ports[name], self.options.operations_port(name)
            for taken in (port, operations):
                if port_is_open("127.0.0.1", taken):
                    raise SystemExit(f"lantern: port {taken} for {name} is already in use")
            service = ServiceProcess(
                name=name,
                port=port,
                operations_port=operations,
                environment=service_environment(name, environment, database_url, roles, kek_settings)
                | signing_settings[name]
                | {
                    "LANTERN_HTTP_PORT": str(port),
                    "LANTERN_OPERATIONS_PORT": str(operations),
                    **(audit_settings if name == "disclosure" else {}),
                    # Intake says who holds a tip: a specialist acts only on the referrals of theirs.
                    **(
                        {"LANTERN_INTAKE_URL": f"http://127.0.0.1:{self.options.ports['intake']}"}
                        if name == "referral"
                        else {}
                    ),
                },
                log_path=self.home / "logs" / f"{name}.log",
            )
            service.start()
            self.services.append(service)
        directory = self._public_directory(environment, database_url, roles)
        self.services.append(directory)
        self.services.append(self._workbench(environment, database_url, roles))
        self._wait_until_healthy(timeout=90)
        apart = (WORKBENCH, PUBLIC_DIRECTORY)
        endpoints = {
            "intake_url": self.services[0].url,
            "web_form_url": f"{self.services[0].url}/report",
            "workbench_url": self.services[-1].url,
            "public_directory_url": directory.url,
            "kafka_bootstrap_servers": bootstrap,
            "kafka_settling_seconds": float(environment["LANTERN_KAFKA_SETTLING_SECONDS"]),
            "database_url": database_url,
            # The event services; the workbench is a web application apart (workbench_url).
            "services": {service.name: service.url for service in self.services if service.name not in apart},
            "operations": {
                service.name: service.operations_url for service in self.services if service.name not in apart
            },
        }
        (self.home / "endpoints.json").write_text(json.dumps(endpoints, indent=2) + "\n")
        for service in self.services:
            say(f"{service.name:<10} {service.url}  (operations, private: {service.operations_url})")
        say(f"kafka      {bootstrap}")
        for role, token in tokens.items():
            say(f"dev token  {role:<10} {token}")
        say(f"dev tokens are in {self.home / 'dev-tokens.json'} (for this machine only)")
        say(f"logs       {self.home / 'logs'}")
        monitoring = next(service for service in self.services if service.name == "monitoring")
        say(f"console    {monitoring.url}/console (sign in with a dev token)")
        say(f"web form   {self.services[0].url}/report (the public web channel, English and French)")
        say(f"workbench  {self.services[-1].url}/ (staff: sign in with a personal token)")
        say(f"directory  {directory.url}/hsds/services and {directory.url}/providers/register (public)")
        say(
            f"submit a tip: curl -X POST {self.services[0].url}/v1/tips -H 'content-type: application/json' -d @tip.json"
        )
        say(READY_MESSAGE)

    def _workbench(self, shared: dict[str, str], database_url: str, roles: ServiceRoles) -> ServiceProcess:
        port, operations = self.options.ports[WORKBENCH], self.options.operations_port(WORKBENCH)
        for taken in (port, operations):
            if port_is_open("127.0.0.1", taken):
                raise SystemExit(f"lantern: port {taken} for {WORKBENCH} is already in use")
        public = {name: f"http://127.0.0.1:{self.options.ports[name]}" for name in SERVICE_NAMES}
        environment = service_environment(WORKBENCH, shared, database_url, roles, {}) | {
            "LANTERN_HTTP_PORT": str(port),
            "LANTERN_OPERATIONS_PORT": str(operations),
            "LANTERN_WORKBENCH_SERVICES": json.dumps(public),
            # Plain HTTP on 127.0.0.1 only; behind TLS in production the cookie is Secure (the default).
            "LANTERN_WORKBENCH_SECURE_COOKIE": "false",
        }
        service = ServiceProcess(
            WORKBENCH, port, operations, environment, self.home / "logs" / f"{WORKBENCH}.log"
        )
        service.start()
        return service

    def _public_directory(
        self, shared: dict[str, str], database_url: str, roles: ServiceRoles
    ) -> ServiceProcess:
        """The public referral directory, as production runs it: its own process and database role."""
        port, operations = (
            self.options.ports[PUBLIC_DIRECTORY],
            self.options.operations_port(PUBLIC_DIRECTORY),
        )
        for taken in (port, operations):
            if port_is_open("127.0.0.1", taken):
                raise SystemExit(f"lantern: port {taken} for the public directory is already in use")
        environment = service_environment(PUBLIC_DIRECTORY, shared, database_url, roles, {}) | {
            "LANTERN_HTTP_PORT": str(port),
            "LANTERN_OPERATIONS_PORT": str(operations),
        }
        service = ServiceProcess(
            PUBLIC_DIRECTORY, port, operations, environment, self.home / "logs" / f"{PUBLIC_DIRECTORY}.log",
            module="services.referral.public",
        )  # fmt: skip
        service.start()
        return service

    def _key_encryption_key(self) -> dict[str, str]:
        """Use the configured KEK, or a key file in the home folder, made on the first run."""
        if os.environ.get("LANTERN_KEK") or os.environ.get("LANTERN_KEK_FILE"):
            return {}
        path = self.home / "kek"
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(KeyEncryptionKey.generate_text())
            say(f"generated the key-encryption key {path}: losing it makes every sealed tip unreadable")
        return {"LANTERN_KEK_FILE": str(path)}

    def _signing_keys(self) -> dict[str, dict[str, str]]:
        """Each service's signing settings: its own private key file only, and everyone's public keys.

        Configured files are used as they are; otherwise keys are made in the home folder on the
        first run and kept (stored events, published again after a broker restart, carry their
        signatures).
        """
        if os.environ.get("LANTERN_SIGNING_KEY_FILE") and os.environ.get("LANTERN_SIGNING_PUBLIC_KEYS_FILE"):
            return {name: {} for name in SERVICE_NAMES}
        directory = self.home / "keys"
        fresh = not directory.exists()
        public_keys = generate_key_files(directory, SERVICE_NAMES)
        if fresh:
            say(f"generated the services' signing keys in {directory}")
        return {
            name: {
                "LANTERN_SIGNING_KEY_FILE": str(directory / f"{name}.key"),
                "LANTERN_SIGNING_PUBLIC_KEYS_FILE": str(public_keys),
            }
            for name in SERVICE_NAMES
        }

    def _start_postgres(self) -> str:
        say(f"starting embedded PostgreSQL (data in {self.home / 'pgdata'})")
        self.postgres = EmbeddedPostgres(self.home / "pgdata", dies_with_this_process=True).start()
        return asyncio.run(ensure_database(self.postgres.url(), "lantern"))

    def _start_broker(self) -> str:
        port = self.options.kafka_port
        if port_is_open("127.0.0.1", port):
            raise SystemExit(f"lantern: port {port} for the broker is already in use (use --kafka-port)")
        say(f"starting Tansu (Kafka protocol, memory storage) on 127.0.0.1:{port}")
        self.broker = TansuBroker(
            port=port,
            log_path=self.home / "logs" / "tansu.log",
            advertised_port=self.options.kafka_advertised_port,
            dies_with_this_process=True,
        ).start()
        return self.broker.bootstrap_servers

    async def _prepare(self, database_url: str, roles: ServiceRoles, bootstrap: str) -> None:
        await ensure_topics(bootstrap, ALL_TOPICS)
        await set_up(database_url, roles)
        agencies = self.home / "agencies"
        provisioned = await provision(database_url, agencies)
        if provisioned:
            say(
                f"made keys for {len(provisioned)} agencies without one: private halves in {agencies}"
                " (for `lantern liaison` on this machine only)"
            )
        sample = await import_file(database_url, SAMPLE_DIRECTORY, timedelta(days=365), only_if_empty=True)
        if sample.services:
            say(
                f"the referral directory was empty: imported the SAMPLE directory ({sample.services} services)"
            )

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.services)
        while waiting:
            if self.stopping:
                raise SystemExit(1)
            for service in list(waiting):
                if service.process is not None and service.process.poll() is not None:
                    raise SystemExit(
                        f"lantern: {service.name} exited with {service.process.returncode}; see {service.log_path}"
                    )
                if service.healthy():
                    waiting.remove(service)
            if time.monotonic() > deadline:
                names = ", ".join(service.name for service in waiting)
                raise SystemExit(f"lantern: not healthy after {timeout} s: {names}")
            time.sleep(0.1)

    def _supervise(self) -> None:
        while not self.stopping:
            now = time.monotonic()
            self._supervise_infrastructure(now)
            self._stop_the_stalled(now)
            self._restart_the_dead(now)
            time.sleep(0.2)

    def _restart_the_dead(self, now: float) -> None:
        for service in self.services:
            if service.process is None or service.process.poll() is None:
                continue
            service.stopping_since = 0.0
            if service.next_start == 0.0:
                if now - service.started_at >= STABLE_RUN_SECONDS:
                    service.restarts = 0
                service.restarts += 1
                delay = min(2.0 ** (service.restarts - 1), RESTART_BACKOFF_CEILING)
                service.next_start = now + delay
                say(f"{service.name} exited with {service.process.returncode}; restarting in {delay:.0f} s")
            elif now >= service.next_start:
                service.next_start = 0.0
                service.start()

    def _stop_the_stalled(self, now: float) -> None:
        """Stop a service whose consuming stalled, to be started again as a dead one is: a hang
        that nothing else ends (the batch in hand is uncommitted and comes again; the inbox absorbs
        what it had applied). It is asked first to log its tasks' await chains, for the diagnosis."""
        for service in self.services:
            alive = service.process is not None and service.process.poll() is None
            if alive and service.stopping_since and now - service.stopping_since > STOP_GRACE_SECONDS:
                assert service.process is not None
                service.process.kill()
        if now < self.next_stall_check:
            return
        self.next_stall_check = now + STALL_CHECK_SECONDS
        for service in self.services:
            process = service.process
            if process is None or process.poll() is not None or service.stopping_since:
                continue
            if service.stalled():
                say(f"{service.name} stalled (its consuming made no progress); restarting it")
                # Its log keeps where each of its tasks waited (services/common/diagnose.py).
                process.send_signal(signal.SIGUSR1)
                process.terminate()
                service.stopping_since = now

    def _supervise_infrastructure(self, now: float) -> None:
        """Start PostgreSQL or the broker again when it died, like a service (with a shorter back-off).

        The services ride the outage out by themselves: their pools reconnect, consumers retry the
        batch in hand, relays and clocks retry, and their operations ``/health`` says 503 meanwhile.
        A broker started again is empty: its topics are made here, and each service's relay, seeing
        a new cluster id, publishes its stored events again (``services/common/epoch.py``).
        """
        for part, restart in ((self.postgres_watch, self._restart_postgres),
                              (self.broker_watch, self._restart_broker)):  # fmt: skip
            if part.running():
                part.failures = 0
                continue
            if part.next_start == 0.0:
                part.next_start = now + part.delay()
                say(f"{part.name} died; starting it again")
            elif now >= part.next_start:
                try:
                    restart()
                except Exception as error:
                    part.failures += 1
                    part.next_start = now + part.delay()
                    say(f"{part.name} did not start ({type(error).__name__}); trying again")
                else:
                    part.next_start = 0.0
                    part.restarts += 1

    def _restart_postgres(self) -> None:
        assert self.postgres is not None
        self.postgres.restart()
        say("PostgreSQL started again (crash recovery done); the services reconnect")

    def _restart_broker(self) -> None:
        assert self.broker is not None
        self.broker.stop()
        self.broker.start()
        asyncio.run(ensure_topics(self.broker.bootstrap_servers, ALL_TOPICS))
        say(
            f"the broker started again, empty (cluster {self.broker.cluster_id}): topics made;"
            " each service publishes its stored events again"
        )

    def _stop(self) -> None:
        say("stopping")
        for service in reversed(self.services):
            service.stop(grace=15)
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.home / "endpoints.json").unlink()
        say("stopped")


KEK_SETTINGS = ("LANTERN_KEK", "LANTERN_KEK_FILE")
# Secrets an operator may have in the shell that started `lantern up`: each reaches only the service
# that needs it, like the KEK.
SECRETS_OF = {
    "disclosure": ("LANTERN_AUDIT_KEY", "LANTERN_AUDIT_KEY_FILE"),
    "intake": ("LANTERN_IDEMPOTENCY_SECRET",),
    "monitoring": ("LANTERN_PAGING_WEBHOOK_SECRET",),
}


def settling_seconds(environ: Mapping[str, str], runs_tansu: bool) -> str:
    """The services' hold on a topic just shown: the one given, else Tansu's when `lantern up` runs
    Tansu (it names a new topic before it resets its offsets), else none."""
    return environ.get("LANTERN_KAFKA_SETTLING_SECONDS", str(TANSU_SETTLING_SECONDS) if runs_tansu else "0")


def service_environment(
    name: str, shared: dict[str, str], owner_url: str, roles: ServiceRoles, kek_settings: dict[str, str]
) -> dict[str, str]:
    """A service's environment: its own role's DSN, and the KEK only if it unseals."""
    # Another service's DSN, or the KEK of a service that unseals nothing, never reaches a process.
    others = {key for service, keys in SECRETS_OF.items() if service != name for key in keys}
    withheld = {*KEK_SETTINGS, "LANTERN_SERVICE_DATABASE_URLS", *others}
    environment = {key: value for key, value in shared.items() if key not in withheld}
    if name in UNSEALING:
        environment |= {key: shared[key] for key in KEK_SETTINGS if key in shared} | kek_settings
    return environment | {"DATABASE_URL": roles.url(owner_url, name)}


def dev_tokens(database_url: str, path: Path) -> dict[str, str]:
    """A working token per role for local use, kept in ``path``; made again if any was revoked."""
    known = json.loads(path.read_text()) if path.exists() else {}
    tokens, renewed = asyncio.run(_valid_or_new_tokens(database_url, known))
    if renewed:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as tokens_file:
            json.dump(tokens, tokens_file, indent=2)
    return tokens


async def _valid_or_new_tokens(database_url: str, known: dict[str, str]) -> tuple[dict[str, str], bool]:
    connection = await asyncpg.connect(database_url)
    try:
        valid = {role: token for role, token in known.items() if await find_staff(connection, token)}
        if set(valid) == {role.value for role in Role}:
            return valid, False
        return {role.value: (await create_token(connection, role, label="dev"))[1] for role in Role}, True
    finally:
        await connection.close()
