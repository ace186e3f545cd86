"""A soak, outside CI: ten times a national peak hour for 30 minutes, with faults, memory and lag watched.

    python -m tests.faults.soak [--minutes 30] [--times 10] [--fault-every 30] [--seed N]

The rate: the Canadian hotline took about 12,700 calls from 2019 to 2022, 8.7 a day over 1,460 days
("about 10 a day"); a peak hour is taken as 10 times the average hour (3.6 tips), and the soak sends
``--times`` that (36 tips an hour by default). Every ``--fault-every`` seconds a fault of the suite
(`tests/faults/run.py`) is drawn with the recorded seed. Every 10 s it samples the resident memory of
every process `lantern up` runs (services, broker, PostgreSQL) and each service's consumer lag and
unsent outbox rows; at the end it prints their first and last samples and highest values, and the
history checker's table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.faults.history import History, check, observe, settle
from tests.faults.run import SERVICES, Load, System, faults_for, inject_alone, running_system

CALLS_2019_2022 = 12_700
DAYS_2019_2022 = 4 * 365
PEAK_OVER_AVERAGE_HOUR = 10


def peak_hour_tips() -> float:
    return CALLS_2019_2022 / DAYS_2019_2022 / 24 * PEAK_OVER_AVERAGE_HOUR


async def sample(system: System) -> dict[str, Any]:
    """Resident memory (MiB) of the stack's processes; each service's lag and unsent outbox rows."""
    memory: dict[str, float] = {}
    root = psutil.Process(system.stack.process.pid)
    processes = [root, *root.children(recursive=True)]
    if system.database == "embedded":
        postmaster = psutil.Process(system.stack.postgres_pid())
        processes += [postmaster, *postmaster.children()]
    for process in processes:
        try:
            arguments = process.cmdline()
            line = " ".join(arguments)
            name = next((s for s in SERVICES if f"services.{s}" in arguments), None) or (
                "broker" if "tansu" in line else "postgresql" if "postgres" in line else "lantern up"
            )
            memory[name] = memory.get(name, 0.0) + process.memory_info().rss / 2**20
        except psutil.Error:
            continue
    lag: dict[str, int] = {}
    async with httpx.AsyncClient() as client:
        for name in SERVICES:
            try:
                checks = (
                    await client.get(f"{system.stack.endpoints['operations'][name]}/health", timeout=2)
                ).json()
                lag[name] = int(checks["checks"].get("lag", 0)) + int(
                    checks["checks"].get("outbox_unsent", 0)
                )
            except (httpx.HTTPError, ValueError, KeyError):
                lag[name] = -1
    return {"memory": memory, "backlog": lag}


async def soak(home: Path, minutes: float, times: float, fault_every: float, seed: int) -> int:
    rng = random.Random(seed)
    history = History()
    samples: list[dict[str, Any]] = []
    async with running_system(home, "embedded", seed) as system:
        wall_offset = time.time() - time.monotonic()
        injectors = faults_for("embedded")
        load = Load(system, history, rng, rate_per_second=peak_hour_tips() * times / 3600, label="soak")
        flowing = asyncio.create_task(load.run())
        ends = time.monotonic() + minutes * 60
        next_fault = time.monotonic() + fault_every
        next_sample = time.monotonic()
        while time.monotonic() < ends:
            if time.monotonic() >= next_sample:
                samples.append(await sample(system))
                next_sample += 10
            if time.monotonic() >= next_fault:
                name = rng.choice(sorted(injectors))
                await inject_alone(system, name, injectors[name], rng, history, load, window="soak")
                next_fault = time.monotonic() + fault_every
            await asyncio.sleep(1)
        load.stop()
        await flowing
        accepted = {tip for tips in history.accepted().values() for tip in tips}
        await settle(system.owner_url, accepted)
        samples.append(await sample(system))
        verdict = check(history, await observe(system.stack.endpoints["kafka_bootstrap_servers"], system.owner_url),
                        wall_offset)  # fmt: skip
    print(
        f"soak: {minutes} min at {times} x a national peak hour ({peak_hour_tips() * times:.0f} tips/h), seed {seed}"
    )
    for part in sorted(samples[0]["memory"]):
        series = [s["memory"].get(part, 0.0) for s in samples]
        print(
            f"  memory {part:<11} first {series[0]:7.1f} MiB  last {series[-1]:7.1f} MiB  highest {max(series):7.1f} MiB"
        )
    for name in SERVICES:
        series = [s["backlog"][name] for s in samples]
        print(
            f"  backlog {name:<10} highest {max(series)}  last {series[-1]} (consumer lag + unsent outbox rows)"
        )
    print(verdict.report())
    return 0 if verdict.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--times", type=float, default=10)
    parser.add_argument("--fault-every", type=float, default=30)
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.SystemRandom().randrange(2**31)
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-{seed}" / ".lantern"
    return asyncio.run(soak(home, arguments.minutes, arguments.times, arguments.fault_every, seed))


if __name__ == "__main__":
    raise SystemExit(main())
