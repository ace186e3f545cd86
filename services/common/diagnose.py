"""``kill -USR1 <pid>``: a running service logs what each of its asyncio tasks waits on.

A hang shows as an idle process: nothing fails, nothing is logged. The await chain of every task
(function names, code files and lines; never a variable, an argument or a message) says which await
never completes, without stopping the process or attaching a debugger.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from services.common.logging import get_logger

log = get_logger(__name__)
MAX_DEPTH = 40


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """Where ``task`` is suspended: each coroutine from the outermost in, then what the innermost
    awaits when it is no coroutine (a future, a lock's waiter), by its type."""
    chain: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None and len(chain) < MAX_DEPTH:
        code = getattr(awaited, "cr_code", None) or getattr(awaited, "gi_code", None)
        if code is None:
            # ``await future`` suspends on the C future's iterator: name the future it stands for.
            kind = type(awaited).__qualname__
            chain.append("Future" if kind == "FutureIter" else kind)
            break
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        line = frame.f_lineno if frame is not None else code.co_firstlineno
        chain.append(f"{code.co_qualname} ({Path(code.co_filename).name}:{line})")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return chain


def log_tasks() -> int:
    """Log every task of the running loop with its await chain; return how many."""
    tasks = sorted(asyncio.all_tasks(), key=lambda task: task.get_name())
    log.warning("asyncio tasks", count=len(tasks))
    for task in tasks:
        log.warning("asyncio task", task=task.get_name(), awaits=" > ".join(await_chain(task)))
    return len(tasks)


def on_usr1(loop: asyncio.AbstractEventLoop) -> None:
    """Log the tasks whenever the process gets SIGUSR1 (nothing else changes)."""
    loop.add_signal_handler(signal.SIGUSR1, log_tasks)
