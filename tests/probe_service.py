"""The probe service as a process of its own, for crash tests: ``python -m tests.probe_service``.

With ``--kill-at N`` it kills itself (SIGKILL) while handling its Nth event, in the middle of a batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
from pathlib import Path

from faststream.kafka import KafkaBroker

from schemas import topics
from schemas.intake import TipReceivedV1
from services.common.consumer import subscribe
from services.common.kafka import create_producer
from services.common.messaging import PostgresUnitOfWork
from services.common.signing import configured_verifier
from tests.probe import SERVICE, Probe, consumer_of, probe_pool


class KillsItself(Probe):
    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    async def __call__(self, event: TipReceivedV1, uow: PostgresUnitOfWork) -> None:
        await super().__call__(event, uow)
        if len(self.calls) == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


async def main(database_url: str, bootstrap: str, kill_at: int | None, public_keys: Path) -> None:
    pool = await probe_pool(database_url, Path(tempfile.mkdtemp()))
    producer = create_producer(bootstrap, "probe", enable_idempotence=False)
    await producer.start()
    broker = KafkaBroker(bootstrap)
    probe = KillsItself(kill_at) if kill_at else Probe()
    subscribe(
        broker, topics=(topics.TIPS_RECEIVED,), group_id=SERVICE, consumer=consumer_of(pool, probe, producer, configured_verifier(public_keys)),
        fetch_max_wait_ms=5, session_timeout_ms=3000, max_records=500, batch_timeout_ms=50,
    )  # fmt: skip
    await broker.start()
    print("consuming", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("bootstrap")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--public-keys", type=Path, required=True, help="the test stack's public keys file")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.bootstrap, arguments.kill_at, arguments.public_keys))
