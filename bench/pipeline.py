"""End-to-end throughput and latency of the tip pipeline, against the raw broker in the same run.

    python bench/pipeline.py [--tips 600] [--rate 100] [--endpoints .lantern/endpoints.json]

Without --endpoints it starts its own stack with `lantern up` in a temporary directory. A tip counts
as done when its triage, disclosure and referral events are all on their topics. The baseline sends
the same number of messages, of the size of a tip event, through one produce and one consume on the
same broker: the ceiling that a pipeline of three hops on that broker can approach.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener

from lantern.launcher import LaunchedStack, launch
from lantern.observe import TopicReader
from schemas import topics
from services.common.kafka import ensure_topics

DOWNSTREAM = (topics.TIPS_TRIAGED, topics.DISCLOSURES, topics.REFERRALS)
TIP = {
    "channel": "chat", "language": "fr", "reporter_role": "family_friend", "anonymous": True,
    "narrative": "Une jeune femme travaille sans salaire dans un restaurant et son patron garde son passeport.",
    "location": {"country": "CA", "province": "QC", "city": "Laval"},
    "assessment": {"minor_involved": "no", "imminent_danger": "no", "trafficking_types": ["labour"]},
    "consent": {"law_enforcement": True, "service_referral": True, "statistics": True},
    "victim_profile": {"age": 24, "gender_identity": "woman", "languages": ["fr", "es"]},
    "needs": ["legal", "emergency_shelter"],
}  # fmt: skip


def specialist_headers(home: Path) -> dict[str, str]:
    token = (
        os.environ.get("LANTERN_TOKEN") or json.loads((home / "dev-tokens.json").read_text())["specialist"]
    )
    return {"authorization": f"Bearer {token}"}


# Shorter than the services' keep-alive (uvicorn's 5 s): a pooled connection the server has just
# closed is never reused for a tip.
CLIENT_LIMITS = httpx.Limits(max_connections=64, keepalive_expiry=2.0)


async def post_tip(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Submit a tip and return its id; a connection that broke before any answer is tried again
    (the request never reached intake: a busy machine can still lose that race)."""
    for attempt in range(3):
        try:
            response = await client.post("/v1/tips", json=body)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if attempt == 2:
                raise
            continue
        response.raise_for_status()
        return str(response.json()["tip_id"])
    raise AssertionError("unreachable")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": cut[49] * 1000, "p95_ms": cut[94] * 1000, "p99_ms": cut[98] * 1000}


async def paced(count: int, rate: float, send: Any) -> None:
    """Call ``send(i)`` ``count`` times at ``rate`` per second (0: as fast as 32 at a time allow)."""
    if rate <= 0:
        gate = asyncio.Semaphore(32)

        async def limited(number: int) -> None:
            async with gate:
                await send(number)

        await asyncio.gather(*(limited(number) for number in range(count)))
        return
    started = time.monotonic()
    pending = []
    for number in range(count):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(send(number)))
    await asyncio.gather(*pending)


async def pipeline_run(endpoints: dict[str, Any], count: int, rate: float) -> dict[str, Any]:
    accepted: dict[str, float] = {}
    done: dict[str, float] = {}
    seen: dict[str, set[str]] = {}
    async with (
        TopicReader(endpoints["kafka_bootstrap_servers"], DOWNSTREAM) as reader,
        httpx.AsyncClient(base_url=endpoints["intake_url"], timeout=30, headers=endpoints["headers"],
                          limits=CLIENT_LIMITS) as client,
    ):  # fmt: skip

        async def submit(_number: int) -> None:
            accepted[await post_tip(client, TIP)] = time.monotonic()

        def finished_all() -> bool:
            return len(accepted) == count and all(tip_id in done for tip_id in accepted)

        async def watch() -> None:
            while not finished_all():
                for record in await reader.read(timeout_ms=20):
                    now = time.monotonic()
                    tip_id = str(record.json()["tip_id"])
                    topics_seen = seen.setdefault(tip_id, set())
                    topics_seen.add(record.topic)
                    if len(topics_seen) == len(DOWNSTREAM) and tip_id not in done:
                        done[tip_id] = now

        started = time.monotonic()
        watcher = asyncio.create_task(watch())
        await paced(count, rate, submit)
        await asyncio.wait_for(watcher, timeout=120)
    finished = max(done[tip_id] for tip_id in accepted)
    latencies = [done[tip_id] - accepted[tip_id] for tip_id in accepted]
    return {"tips": count, "rate_offered": rate, "seconds": finished - started,
            "tips_per_second": count / (finished - started), **percentiles(latencies)}  # fmt: skip


class AssignmentListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.event.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.event.set()


async def raw_broker_run(bootstrap: str, count: int, rate: float, size: int) -> dict[str, Any]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, (topic,))
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"bench-{topic}",
                                auto_offset_reset="earliest", fetch_max_wait_ms=5)  # fmt: skip
    assigned = AssignmentListener()
    consumer.subscribe([topic], listener=assigned)
    await producer.start()
    await consumer.start()
    try:
        await asyncio.wait_for(assigned.event.wait(), timeout=60)
        padding = b"x" * size

        async def send(number: int) -> None:
            sent[number] = time.monotonic()
            await producer.send_and_wait(
                topic, value=number.to_bytes(4, "big") + padding, key=str(number).encode()
            )

        async def watch() -> None:
            while len(received) < count:
                for records in (await consumer.getmany(timeout_ms=20)).values():
                    now = time.monotonic()
                    for record in records:
                        received[int.from_bytes((record.value or b"")[:4], "big")] = now

        started = time.monotonic()
        watcher = asyncio.create_task(watch())
        await paced(count, rate, send)
        await asyncio.wait_for(watcher, timeout=120)
    finally:
        await consumer.stop()
        await producer.stop()
    finished = max(received.values())
    return {"messages": count, "rate_offered": rate, "seconds": finished - started,
            "messages_per_second": count / (finished - started),
            **percentiles([received[n] - sent[n] for n in sent])}  # fmt: skip


STACK_CPU = "stack_cpu_seconds"
"""The endpoints' entry, set when the benchmark started the stack itself, that reads the CPU time
its processes (services, broker, PostgreSQL and its backends) have used so far."""


def stack_cpu_seconds(stack: LaunchedStack) -> Callable[[], dict[str, float]]:
    """A reader of the CPU time (user and system) of every process of ``stack``, by part (each
    service, its PostgreSQL backends, the broker, the rest of PostgreSQL, ``lantern up``): on a shared
    machine the stack's CPU per tip says more than its wall-clock rate, which the other tenants move.
    A process is counted once: PostgreSQL is both a child of ``lantern up`` and a root here (a
    restarted server is a root of its own)."""

    def processes() -> dict[int, psutil.Process]:
        roots = [psutil.Process(stack.process.pid), psutil.Process(stack.postgres_pid())]
        return {process.pid: process for root in roots for process in (root, *root.children(recursive=True))}

    def read() -> dict[str, float]:
        parts: dict[str, float] = {}
        for process in processes().values():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                part = part_of(process.cmdline())
                parts[part] = parts.get(part, 0.0) + times.user + times.system
        return parts

    return read


def part_of(command: list[str]) -> str:
    """Which part of the stack a process is, from its command line."""
    line = " ".join(command)
    if "-m" in command and command.index("-m") + 1 < len(command):
        module = command[command.index("-m") + 1]
        if module.startswith("services."):
            return module.removeprefix("services.")
    if line.startswith("postgres: lantern_"):
        return "postgres for " + line.removeprefix("postgres: lantern_").split()[0]
    if "postgres" in line:
        return "postgres, the rest"
    if "tansu" in line:
        return "tansu"
    return "lantern up"


async def measure(endpoints: dict[str, Any], count: int, rate: float) -> dict[str, Any]:
    bootstrap = endpoints["kafka_bootstrap_servers"]
    cpu: Callable[[], dict[str, float]] | None = endpoints.get(STACK_CPU)
    await pipeline_run(endpoints, min(50, count), rate)  # warm-up: connections, JIT-free but caches
    results = {
        "pipeline_fixed_rate": await pipeline_run(endpoints, count, rate),
        "raw_broker_fixed_rate": await raw_broker_run(bootstrap, count, rate, size=1500),
    }
    before = cpu() if cpu else {}
    results["pipeline_saturated"] = await pipeline_run(endpoints, count, 0)
    if cpu:
        after = cpu()
        by_part = {part: (seconds - before.get(part, 0.0)) * 1000 / count for part, seconds in after.items()}
        results["pipeline_saturated"]["stack_cpu_ms_per_tip"] = sum(by_part.values())
        results["pipeline_saturated"]["stack_cpu_ms_per_tip_by_part"] = dict(
            sorted(by_part.items(), key=lambda item: -item[1])
        )
    results["raw_broker_saturated"] = await raw_broker_run(bootstrap, count, 0, size=1500)
    results["ratios"] = {
        "throughput_pipeline_to_raw": results["pipeline_saturated"]["tips_per_second"]
        / results["raw_broker_saturated"]["messages_per_second"],
        "p50_latency_pipeline_to_raw_hop": results["pipeline_fixed_rate"]["p50_ms"]
        / results["raw_broker_fixed_rate"]["p50_ms"],
    }
    return results


def report(results: dict[str, Any]) -> str:
    fixed, raw_fixed = results["pipeline_fixed_rate"], results["raw_broker_fixed_rate"]
    sat, raw_sat = results["pipeline_saturated"], results["raw_broker_saturated"]
    ratios = results["ratios"]
    return "\n".join([
        f"pipeline at {fixed['rate_offered']:.0f} tips/s offered: {fixed['tips_per_second']:.1f} tips/s, "
        f"p50 {fixed['p50_ms']:.1f} ms, p95 {fixed['p95_ms']:.1f} ms, p99 {fixed['p99_ms']:.1f} ms",
        f"raw broker at the same rate: p50 {raw_fixed['p50_ms']:.1f} ms, p99 {raw_fixed['p99_ms']:.1f} ms per hop",
        f"pipeline saturated: {sat['tips_per_second']:.1f} tips/s (p50 {sat['p50_ms']:.0f} ms, p99 {sat['p99_ms']:.0f} ms)"
        + (f", stack CPU {sat['stack_cpu_ms_per_tip']:.1f} ms a tip" if "stack_cpu_ms_per_tip" in sat else ""),
        *(
            ["stack CPU a tip by part: " + ", ".join(
                f"{part} {ms:.1f}" for part, ms in sat["stack_cpu_ms_per_tip_by_part"].items() if ms >= 0.05
            ) + " ms"]
            if "stack_cpu_ms_per_tip_by_part" in sat else []
        ),
        f"raw broker saturated: {raw_sat['messages_per_second']:.0f} msg/s",
        f"ratio, throughput pipeline/raw: {ratios['throughput_pipeline_to_raw']:.3f}",
        f"ratio, p50 latency pipeline (3 hops + HTTP + 3 transactions)/raw hop: "
        f"{ratios['p50_latency_pipeline_to_raw_hop']:.1f}",
    ])  # fmt: skip


def run_against_a_stack(
    description: str,
    measure: Callable[[dict[str, Any], int, float], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], str],
    tips: int,
    rate: float,
    out: Path,
) -> None:
    """Parse the common options, measure against a running stack or one started here, and report."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tips", type=int, default=tips)
    parser.add_argument("--rate", type=float, default=rate, help="tips per second offered")
    parser.add_argument("--endpoints", type=Path, help="endpoints.json of a running stack")
    parser.add_argument("--out", type=Path, default=out)
    options = parser.parse_args()
    stack = None
    if options.endpoints:
        endpoints = json.loads(options.endpoints.read_text())
        home = options.endpoints.parent
    else:
        stack = launch(Path(tempfile.mkdtemp(prefix="lantern-bench-")) / ".lantern", dict(os.environ))
        endpoints, home = stack.endpoints, stack.home
        endpoints[STACK_CPU] = stack_cpu_seconds(stack)
    # Tips come in as a specialist records them: the public web form's rate limit is not measured.
    endpoints["headers"] = specialist_headers(home)
    try:
        results = asyncio.run(measure(endpoints, options.tips, options.rate))
    finally:
        if stack is not None:
            stack.stop()
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    print(f"written to {options.out}")


def main() -> None:
    run_against_a_stack(__doc__ or "", measure, report, 600, 40.0, Path("bench/results/pipeline.json"))


if __name__ == "__main__":
    main()
