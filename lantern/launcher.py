"""Starting `lantern up` as a child process on free ports: for the end-to-end tests and the benchmark."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from lantern.infra import free_port
from lantern.stack import READY_MESSAGE

LANTERN = Path(sys.executable).parent / "lantern"
READY_LINE = f"lantern: {READY_MESSAGE}"


@dataclass
class LaunchedStack:
    home: Path
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def endpoints(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "endpoints.json").read_text()))

    def service_pid(self, name: str) -> int:
        for child in psutil.Process(self.process.pid).children(recursive=True):
            # A service just killed lingers as a zombie until `lantern up` reaps it: no command line.
            with contextlib.suppress(psutil.Error):
                # The module as its own argument: services.referral is not services.referral.public.
                if f"services.{name}" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                    return int(child.pid)
        raise LookupError(name)

    def broker_pid(self) -> int:
        """The Tansu broker `lantern up` started (and starts again when it dies)."""
        for child in psutil.Process(self.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "tansu" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                    return int(child.pid)
        raise LookupError("broker")

    def postgres_pid(self) -> int:
        """The embedded PostgreSQL's postmaster (pg_ctl detaches it: it is no child of `lantern up`)."""
        return int((self.home / "pgdata" / "postmaster.pid").read_text().split()[0])

    def logs(self) -> str:
        texts = [path.read_text(errors="replace") for path in sorted((self.home / "logs").glob("*.log"))]
        return "\n".join([self.output.read_text(errors="replace"), *texts])

    def stop(self) -> int:
        """Send SIGTERM (which `lantern up` handles as it does Ctrl-C), and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        return int(self.process.returncode)


def launch(
    home: Path,
    environment: dict[str, str],
    timeout: float = 120,
    attempts: int = 3,
    extra_arguments: tuple[str, ...] = (),
) -> LaunchedStack:
    """Run `lantern up --home HOME` on free ports and wait until it says it is ready.

    A stack that exits before it is ready is started again on other ports: a free port can be taken
    by another process (a parallel test run) before `lantern up` binds it.
    """
    home.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        stack = _start(home, environment, extra_arguments)
        deadline = time.monotonic() + timeout
        while READY_LINE not in stack.output.read_text(errors="replace"):
            exited = stack.process.poll() is not None
            if exited or time.monotonic() > deadline:
                stack.stop()
                if exited and attempt < attempts:
                    time.sleep(1)
                    break
                said = stack.output.read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"lantern up did not start:\n{said}\n--- service logs ---\n{stack.logs()[-3000:]}"
                )
            time.sleep(0.2)
        else:
            return stack
    raise AssertionError("unreachable")


def _start(home: Path, environment: dict[str, str], extra_arguments: tuple[str, ...]) -> LaunchedStack:
    ports = [free_port() for _ in range(8)]
    output = home / f"up-{uuid.uuid4().hex[:8]}.out"
    command = [
        str(LANTERN), "up", "--home", str(home), "--kafka-port", str(ports[0]),
        "--intake-port", str(ports[1]), "--triage-port", str(ports[2]),
        "--disclosure-port", str(ports[3]), "--referral-port", str(ports[4]), "--monitoring-port", str(ports[5]),
        "--workbench-port", str(ports[6]), "--directory-port", str(ports[7]), *extra_arguments,
    ]  # fmt: skip
    with open(output, "ab") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=environment)
    return LaunchedStack(home=home, process=process, output=output)
