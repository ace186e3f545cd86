"""``kill -USR1`` of a service logs where each asyncio task waits: code names only, never data."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal

import pytest
import structlog

from services.common.diagnose import await_chain, on_usr1
from services.common.logging import configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


async def waits_for_the_database(never: asyncio.Event, secret: str) -> None:
    await inner_wait(never, secret)


async def inner_wait(never: asyncio.Event, secret: str) -> None:
    await never.wait()


async def test_a_task_s_await_chain_names_each_function_from_the_outermost_in() -> None:
    task = asyncio.create_task(waits_for_the_database(asyncio.Event(), "Jean Gagnon"), name="stuck")
    await asyncio.sleep(0)
    try:
        chain = await_chain(task)
    finally:
        task.cancel()
    assert chain[0].startswith("waits_for_the_database (test_hang_diagnosis.py:")
    assert chain[1].startswith("inner_wait (")
    assert chain[2].startswith("Event.wait (locks.py:")
    assert chain[-1] == "Future", "what the innermost coroutine awaits, by its type"


async def test_sigusr1_logs_every_task_and_its_await_chain_and_nothing_it_holds() -> None:
    stream = io.StringIO()
    configure_logging("test", stream=stream)
    loop = asyncio.get_running_loop()
    on_usr1(loop)
    task = asyncio.create_task(waits_for_the_database(asyncio.Event(), "514-555-0147"), name="consumer")
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
        loop.remove_signal_handler(signal.SIGUSR1)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [stuck] = [line for line in lines if line.get("task") == "consumer"]
    assert "waits_for_the_database" in stuck["awaits"] and "inner_wait" in stuck["awaits"]
    assert any(line["event"] == "asyncio tasks" and line["count"] >= 2 for line in lines)
    assert "514-555-0147" not in stream.getvalue()
