"""What every service process runs: pool, migrations, producer, relay, consumers, and two listeners:
the public one (the service's API and a bare liveness ``/health``) and a private operations one
(``/metrics`` and the detailed ``/health``) on a port of its own, which is never exposed publicly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.topics import ALL_TOPICS
from services.common import consumer as consuming
from services.common import diagnose, metrics, telemetry
from services.common.db import check_migrated, create_pool, service_migrations
from services.common.epoch import BrokerEpoch
from services.common.http import Refused, answer_refused
from services.common.kafka import PLAINTEXT, ClusterIdentity, KafkaSecurity, create_producer, ensure_topics
from services.common.logging import configure_logging, get_logger
from services.common.messaging import PostgresUnitOfWork, Transactions
from services.common.openapi import document_refusals
from services.common.relay import OutboxRelay, quarantined_rows, relay_state
from services.common.retention import Policy, Step, keep_retaining, messaging_steps
from services.common.roles import UNSEALING, check_own_role
from services.common.sealing import KeyConfigurationError, Keystore, configured_kek
from services.common.settings import ServiceSettings
from services.common.signing import EventVerifier, configured_signer, configured_verifier

log = get_logger(__name__)
# Each of health's reads gives up after this long: a probe that waits for ever on a pool with no free
# connection, or on a broker that accepts and never answers, tells the operator nothing.
HEALTH_CHECK_SECONDS = 2.0
# How long starting the broker's clients (a consumer group's join included) may take before the
# service gives up and exits, for its supervisor to start it again, rather than hang half started.
START_TIMEOUT_SECONDS = 120.0
# How long each resource may take to stop: a client that waits for a broker or a database that
# will not answer must not keep a stopping process alive (its supervisor kills it later anyway).
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ServiceSpec:
    """A service's name (also its database schema and consumer group), its migrations and the topics
    that only it publishes to.
    """

    name: str
    migrations: Path
    own_topics: Callable[[], tuple[str, ...]] | None = field(
        default=None, metadata={"doc": "Topics only this service publishes to, created when it starts."}
    )
    unit_of_work: Callable[..., PostgresUnitOfWork] = field(
        default=PostgresUnitOfWork,
        metadata={"doc": "Builds the service's unit of work from a connection and a keystore."},
    )
    retention: tuple[Step, ...] = field(
        default=(),
        metadata={"doc": "Retention steps besides the inbox's and outbox's, run as the service's role."},
    )
    withheld_on_replay: str | None = field(
        default=None,
        metadata={
            "doc": "SQL run before a new broker is owed the outbox again: it empties the rows that must"
            " not go out a second time, and answers how many (services/common/epoch.py)."
        },
    )


@dataclass
class Runtime:
    """The open resources of a running service, handed to its wiring function."""

    spec: ServiceSpec
    settings: ServiceSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    broker: KafkaBroker
    relay: OutboxRelay
    dead_letters: consuming.DeadLetters
    transactions: Transactions[Any]
    sealing: Keystore | None
    verifier: EventVerifier
    background_work: dict[str, Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=dict)
    kafka_security: KafkaSecurity = PLAINTEXT
    routes: dict[str, consuming.Route] = field(default_factory=dict)
    consumer: consuming.BatchConsumer | None = None

    @property
    def keystore(self) -> Keystore:
        """Opens tips' data keys; only a service that unseals holds one (and the KEK behind it)."""
        if self.sealing is None:
            raise KeyConfigurationError(f"{self.spec.name} unseals nothing: it holds no key-encryption key")
        return self.sealing

    def consume(
        self,
        topic: str,
        model: Any,
        handle: Callable[[Any, Any], Awaitable[None]],
        event_id: Callable[[Any], uuid.UUID] | None = None,
        reads_tip: bool = True,
    ) -> None:
        """Route ``topic``'s events to a use case, called with each event and a unit of work;
        ``reads_tip`` False for a use case that only adds to what is kept about its tip (its tip is
        then not one a batch locks and reads for)."""
        self.routes[topic] = consuming.Route(model, handle, event_id or attrgetter("event_id"), reads_tip)

    def start_consuming(self) -> None:
        """One consumer-group member for all the service's topics, applying batches."""
        if not self.routes:
            return
        self.consumer = consuming.BatchConsumer(
            service=self.spec.name,
            routes=self.routes,
            transactions=self.transactions,
            dead_letters=self.dead_letters,
            verifier=self.verifier,
            max_attempts=self.settings.handler_max_attempts,
            backoff_seconds=self.settings.retry_backoff_seconds,
            batch_timeout_seconds=self.settings.consumer_batch_timeout_seconds,
        )
        consuming.subscribe(
            self.broker,
            topics=tuple(self.routes),
            group_id=self.spec.name,
            consumer=self.consumer,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            max_records=self.settings.kafka_max_records,
            batch_timeout_ms=self.settings.kafka_batch_timeout_ms,
        )
        self.background("inbox-sweep", self._sweep_inbox)
        self.background("consumer-positions", self._keep_positions)

    async def _keep_positions(self) -> None:
        assert self.consumer is not None
        identity = ClusterIdentity(self.settings.kafka_bootstrap_servers, self.kafka_security)
        try:
            await self.consumer.keep_positions(
                lambda: [getattr(subscriber, "consumer", None) for subscriber in self.broker.subscribers],
                identity,
                create_topics=partial(
                    ensure_topics, self.settings.kafka_bootstrap_servers, security=self.kafka_security
                ),
            )
        finally:
            await identity.close()

    def consumer_lag(self) -> int:
        return sum(
            lag for (service, _topic), lag in telemetry.consumer_lag.items() if service == self.spec.name
        )

    def consuming_stalled(self) -> bool:
        """A round has made no progress (no commit, no dead letter), or none has run since events
        were seen waiting, for longer than the setting."""
        if self.consumer is None:
            return False
        waited = self.consumer.stalled_for(has_work=self.consumer_lag() > 0)
        return waited > self.settings.consumer_stalled_seconds

    async def _sweep_inbox(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                await self.consumer.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("inbox sweep failed", error_type=type(error).__name__)
            await asyncio.sleep(self.settings.inbox_sweep_seconds)

    def background(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` for as long as the service runs, started after the consumers."""
        self.background_work[name] = work

    def consumers_assigned(self) -> bool:
        """Every subscription holds partitions: the consumer group has settled after a (re)start.

        Not part of health: with more processes than partitions some consumers rightly hold none.
        """
        consumers = [getattr(subscriber, "consumer", None) for subscriber in self.broker.subscribers]
        return all(consumer is not None and consumer.assignment() for consumer in consumers)

    async def health(self) -> Health:
        """The service's detailed health, for the operations listener: codes, counts and ids only."""
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(HEALTH_CHECK_SECONDS):
                await self.pool.fetchval("SELECT 1")
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "unavailable"
        try:
            checks["broker"] = "ok" if await self.broker.ping(timeout=HEALTH_CHECK_SECONDS) else "unavailable"
        except Exception:
            checks["broker"] = "unavailable"
        checks["relay"] = "leading" if self.relay.leading else "standby"
        checks["consumers"] = "assigned" if self.consumers_assigned() else "joining"
        checks["lag"] = str(self.consumer_lag())
        try:
            async with asyncio.timeout(HEALTH_CHECK_SECONDS):
                held = await self.pool.fetch(
                    "SELECT status, count(*) AS events, count(DISTINCT tip_key) AS tips FROM inbox"
                    " WHERE status IN ('deferred', 'waiting', 'poisoned') GROUP BY status"
                )
            counts = {row["status"]: row for row in held}
            checks["parked_tips"] = str(counts["poisoned"]["tips"] if "poisoned" in counts else 0)
            checks["waiting_events"] = str(counts["waiting"]["events"] if "waiting" in counts else 0)
            checks["deferred_events"] = str(counts["deferred"]["events"] if "deferred" in counts else 0)
        except Exception:
            checks["parked_tips"] = "unknown"
        # An outage is waited out (the consumer reconnects by itself): not a hang to restart for.
        stalled = checks["database"] == "ok" and checks["broker"] == "ok" and self.consuming_stalled()
        checks["consuming"] = "stalled" if stalled else "ok"
        # None, not an empty list, when the rows could not be read: monitoring closes the alerts of
        # rows no longer listed, so an empty list must mean that none is quarantined.
        relay_stalled, quarantined = False, None
        try:
            async with asyncio.timeout(HEALTH_CHECK_SECONDS):
                state = await relay_state(self.pool)
            relay_stalled = state.stalled(self.settings.outbox_stalled_seconds)
            checks["outbox_unsent"] = str(state.unsent)
            checks["outbox_oldest_seconds"] = str(int(state.oldest_waiting_seconds))
            checks["outbox_quarantined"] = str(state.quarantined)
            async with asyncio.timeout(HEALTH_CHECK_SECONDS):
                quarantined = await quarantined_rows(self.pool) if state.quarantined else []
            checks["relaying"] = "stalled" if relay_stalled else "ok"
        except Exception:
            checks["relaying"], quarantined = "unknown", None
        healthy = (
            checks["database"] == "ok" and checks["broker"] == "ok" and not stalled and not relay_stalled
        )
        status = "unavailable" if not healthy else "degraded" if quarantined is None or quarantined else "ok"
        return Health(status, checks, quarantined)


@dataclass(frozen=True)
class Health:
    """``unavailable`` (503): the database or broker is out of reach, or consuming or relaying has
    stalled. ``degraded`` (200): everything flows, but rows are quarantined and wait for a person, or
    the outbox could not be read (``quarantined`` is then None: not known, rather than none).
    """

    status: str
    checks: dict[str, str]
    quarantined: list[dict[str, Any]] | None

    @property
    def http_status(self) -> int:
        return 503 if self.status == "unavailable" else 200


Wiring = Callable[[Runtime], None]


def runtime_of(request: Request) -> Runtime:
    """The running service behind an HTTP request."""
    runtime: Runtime = request.app.state.runtime
    return runtime


@asynccontextmanager
async def running(spec: ServiceSpec, settings: ServiceSettings, wire: Wiring) -> AsyncIterator[Runtime]:
    """Start a service's resources in dependency order and stop them in reverse.

    The service connects as its own role, which cannot migrate: the owner has migrated the schema
    and granted the role its rights before (``lantern up``, ``lantern db setup``).
    """
    keystore = _keystore(spec, settings)
    retention = Policy.from_text(settings.retention_days)
    database_url = settings.database_url_of(spec.name)
    signer = configured_signer(spec.name, settings.signing_key_file)
    verifier = configured_verifier(settings.signing_public_keys_file)
    security = KafkaSecurity.of(settings)
    if spec.own_topics is not None:
        await ensure_topics(settings.kafka_bootstrap_servers, spec.own_topics(), security=security)
    pool = await create_pool(
        database_url,
        spec.name,
        settings.db_pool_max_size,
        patience_seconds=settings.database_patience_seconds,
    )
    try:
        await check_own_role(pool, spec.name)
        await check_migrated(pool, spec.name, service_migrations(spec.migrations))
    except BaseException:
        await pool.close()
        raise
    cluster_identity = ClusterIdentity(settings.kafka_bootstrap_servers, security)
    producer = create_producer(
        settings.kafka_bootstrap_servers,
        f"lantern-{spec.name}",
        settings.kafka_enable_idempotence,
        settings.kafka_linger_ms,
        security,
        settings.kafka_settling_seconds,
    )
    telemetry.tracer_provider(spec.name, settings.otlp_endpoint)
    telemetry.meter_provider(spec.name, settings.otlp_endpoint)
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"lantern-{spec.name}",
        logger=logging.getLogger(f"faststream.{spec.name}"),
        security=security.security,
        # FastStream would make a missing topic with one partition and no settings; the consumer's
        # position keeper makes it as declared (``BatchConsumer.keep_positions``).
        allow_auto_create_topics=False,
    )
    try:
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            await producer.start()
        relay = OutboxRelay(
            pool=pool,
            database_url=database_url,
            schema=spec.name,
            producer=producer,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            max_attempts=settings.outbox_max_attempts,
            epoch=BrokerEpoch(
                pool,
                spec.name,
                cluster_identity,
                partial(_recreate_topics, spec, settings, security),
                withheld=spec.withheld_on_replay,
            ),
        )
        runtime = Runtime(
            spec=spec,
            settings=settings,
            pool=pool,
            producer=producer,
            broker=broker,
            relay=relay,
            dead_letters=consuming.DeadLetters(producer, spec.name),
            transactions=Transactions(pool, partial(spec.unit_of_work, keystore=keystore), signer),
            sealing=keystore,
            verifier=verifier,
            kafka_security=security,
        )
        wire(runtime)
        runtime.background(
            "retention",
            partial(
                keep_retaining, pool, spec.name, (*messaging_steps(spec.name), *spec.retention), retention,
                settings.retention_every_seconds,
            ),
        )  # fmt: skip
        runtime.start_consuming()
        tasks = [
            asyncio.create_task(relay.run(), name=f"{spec.name}-outbox-relay"),
            asyncio.create_task(_watch_outbox(spec.name, pool), name=f"{spec.name}-outbox-backlog"),
            asyncio.create_task(_watch_lag(spec.name, broker), name=f"{spec.name}-consumer-lag"),
        ]
        try:
            async with asyncio.timeout(START_TIMEOUT_SECONDS):
                await broker.start()
            tasks += [
                asyncio.create_task(work(), name=f"{spec.name}-{name}")
                for name, work in runtime.background_work.items()
            ]
            log.info("service started", service=spec.name)
            yield runtime
        finally:
            if runtime.consumer is not None:
                await _stop_taking_batches(broker, runtime.consumer)
            await _bounded_stop("broker", broker.stop())
            for task in tasks:
                task.cancel()
            for task in tasks:
                await _bounded_stop(task.get_name(), _finished(task))
    finally:
        await _bounded_stop("producer", producer.stop())
        await _bounded_stop("cluster identity", cluster_identity.close())
        await _bounded_stop("pool", pool.close(), pool.terminate)
        log.info("service stopped", service=spec.name)


async def _stop_taking_batches(broker: KafkaBroker, consumer: consuming.BatchConsumer) -> None:
    """Let the batch in hand finish and its offsets be committed before the broker's consumers close.

    FastStream's own stop waits for the handler, then closes the consumer at once: the commit the
    handler left in flight (``BatchConsumer.drain``) would race the close, and each clean stop
    replay up to one batch. Its first steps are taken here, so that the commit is awaited between
    them and the close: no new batch is handed over (``running``), the one in hand finishes
    (``lock``), bounded.
    """
    subscribers = list(broker.subscribers)
    for subscriber in subscribers:
        subscriber.running = False
    try:
        async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
            for subscriber in subscribers:
                # A lock each handler call holds, when the broker has a graceful timeout (it has).
                wait_release = getattr(subscriber.lock, "wait_release", None)
                if wait_release is not None:
                    await wait_release(STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("batch in hand not finished before stopping", service=consumer.service)
    await consumer.drain()


async def _finished(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _bounded_stop(
    what: str, stopping: Awaitable[Any], otherwise: Callable[[], None] | None = None
) -> None:
    """Await a resource's stop for ``STOP_TIMEOUT_SECONDS`` at most; past that, or when it fails,
    say so and go on stopping the rest (``otherwise`` drops what it held without waiting)."""
    try:
        async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
            await stopping
    except Exception as error:
        log.warning("resource not stopped cleanly", component=what, error_type=type(error).__name__)
        if otherwise is not None:
            otherwise()


def settle_the_heap() -> None:
    """Leave what start-up built (modules, models, a lexicon's automaton) out of every later garbage
    collection. A full collection walks every tracked object: 100,000 to 160,000 in a service, a few
    hundred milliseconds on a busy two-core machine, paid by whichever event was being handled (the
    forwarding benchmark's p99). Frozen objects are still freed when no longer referenced."""
    gc.collect()
    gc.freeze()


async def _recreate_topics(spec: ServiceSpec, settings: ServiceSettings, security: KafkaSecurity) -> None:
    """Topics a broker that lost everything no longer has; a refusal (a cluster whose ACLs keep topic
    creation to its operators) leaves them to the operators, and the relay waits for them.
    """
    own = spec.own_topics() if spec.own_topics is not None else ()
    try:
        await ensure_topics(settings.kafka_bootstrap_servers, (*ALL_TOPICS, *own), security=security)
    except Exception as error:
        log.warning(
            "topics not created on the new broker", service=spec.name, error_type=type(error).__name__
        )


def _keystore(spec: ServiceSpec, settings: ServiceSettings) -> Keystore | None:
    """The keystore of a service that unseals; any other one never loads the KEK, even when given."""
    configured = settings.kek is not None or settings.kek_file is not None
    if spec.name not in UNSEALING:
        if configured:
            log.warning("key-encryption key configured but not used: remove it", service=spec.name)
        return None
    kek = configured_kek(settings.kek.get_secret_value() if settings.kek else None, settings.kek_file)
    return Keystore(kek, spec.name)


async def _watch_outbox(service: str, pool: asyncpg.Pool, every_seconds: float = 5.0) -> None:
    """Keep the outbox gauges current: events staged and not yet on the broker, and rows quarantined."""
    while True:
        try:
            state = await relay_state(pool)
            telemetry.outbox_backlog[service] = state.unsent
            telemetry.outbox_oldest_seconds[service] = state.oldest_waiting_seconds
            metrics.outbox_quarantined_now[service] = state.quarantined
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("outbox backlog not read", error_type=type(error).__name__)
        await asyncio.sleep(every_seconds)


async def _watch_lag(service: str, broker: KafkaBroker, every_seconds: float = 5.0) -> None:
    """Keep the consumer-lag gauge current: per topic, what the broker holds that is not yet consumed."""
    while True:
        try:
            lags: dict[str, int] = {}
            for subscriber in broker.subscribers:
                consumer = getattr(subscriber, "consumer", None)
                if consumer is None:
                    continue
                for partition in consumer.assignment():
                    highwater = consumer.highwater(partition)
                    if highwater is not None:
                        behind = max(highwater - await consumer.position(partition), 0)
                        lags[partition.topic] = lags.get(partition.topic, 0) + behind
            for topic, lag in lags.items():
                telemetry.consumer_lag[(service, topic)] = lag
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("consumer lag not read", error_type=type(error).__name__)
        await asyncio.sleep(every_seconds)


def build_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    wire: Wiring,
    *,
    http: Callable[[FastAPI], None] | None = None,
    description: str | None = None,
) -> FastAPI:
    """Compose the HTTP face of a service: its own routes and a bare liveness ``/health`` on the public
    app, and the private operations app (``app.state.operations``: ``/metrics``, detailed ``/health``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(spec, settings, wire) as runtime:
            app.state.runtime = runtime
            # Only a service's own process (``serve``): a test process that starts many apps would
            # keep each one's cycles for ever.
            if getattr(app.state, "settle_the_heap", False):
                settle_the_heap()
            yield

    app = FastAPI(
        title=f"Lantern {spec.name}",
        version="1",
        description=(description or f"Lantern's {spec.name} service."),
        lifespan=lifespan,
        telemetry=telemetry.FASTAPI_TELEMETRY,  # type: ignore[arg-type]
        docs_url=None,
        redoc_url=None,
    )

    app.add_middleware(telemetry.RequestIds, service=spec.name)

    # Liveness only: backlogs, lag and quarantined rows say too much to the public; they are on the
    # operations listener.
    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"service": spec.name, "status": "ok"})

    app.state.operations = operations_app(spec.name, app)
    if http is not None:
        http(app)
    app.add_exception_handler(Refused, answer_refused)
    document_refusals(app)
    return app


def operations_app(service: str, public: FastAPI) -> FastAPI:
    """The private listener's app: Prometheus metrics and the detailed health of ``public``'s runtime."""
    operations = FastAPI(
        title=f"Lantern {service} operations", docs_url=None, redoc_url=None, openapi_url=None
    )

    @operations.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @operations.get("/health")
    async def health() -> JSONResponse:
        runtime: Runtime | None = getattr(public.state, "runtime", None)
        if runtime is None:
            return JSONResponse({"service": service, "status": "starting", "checks": {}}, status_code=503)
        report = await runtime.health()
        return JSONResponse(
            {"service": service, "status": report.status, "checks": report.checks,
             "quarantined": report.quarantined},
            status_code=report.http_status,
        )  # fmt: skip

    return operations


class _OperationsServer(uvicorn.Server):
    """The operations listener leaves signals to the public server, which stops it when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listeners(app: FastAPI, settings: ServiceSettings) -> tuple[uvicorn.Server, uvicorn.Server]:
    """The public server (which runs the service's lifespan) and the private operations server."""
    # proxy_headers off: a service believes X-Forwarded-For only from FORWARDED_ALLOW_IPS, itself.
    common: dict[str, Any] = {
        "log_config": None, "access_log": False, "server_header": False, "proxy_headers": False,
    }  # fmt: skip
    public = uvicorn.Server(
        uvicorn.Config(app, host=settings.http_host, port=settings.http_port, lifespan="on", **common)
    )
    operations = _OperationsServer(
        uvicorn.Config(
            app.state.operations,
            host=settings.operations_host,
            port=settings.operations_port,
            lifespan="off",
            **common,
        )
    )
    return public, operations


async def serve_both(public: uvicorn.Server, operations: uvicorn.Server) -> None:
    """Serve until the public server stops (SIGINT or SIGTERM), then stop the operations listener."""
    diagnose.on_usr1(asyncio.get_running_loop())
    private = asyncio.create_task(operations.serve(), name="operations-listener")
    try:
        await public.serve()
    finally:
        operations.should_exit = True
        await private


def bound_port(server: uvicorn.Server) -> int:
    """The port a started server listens on (the one the system chose when configured with 0)."""
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    """Run the service until SIGINT or SIGTERM, then shut down cleanly."""
    configure_logging(service, settings.log_level)
    app.state.settle_the_heap = True
    asyncio.run(serve_both(*listeners(app, settings)))
