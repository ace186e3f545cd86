"""`lantern up` restarts a service whose health says its consuming stalled, as it restarts a dead one."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from lantern.stack import RESTART_BACKOFF_CEILING, ServiceProcess, Stack, StackOptions


class Health(BaseHTTPRequestHandler):
    """The stalled service's health; every other server (``HealthyHealth``) always says ok."""

    consuming = "ok"

    def state(self) -> str:
        return Health.consuming

    def do_GET(self) -> None:
        body = json.dumps({"status": "x", "checks": {"consuming": self.state()}}).encode()
        self.send_response(503 if self.state() == "stalled" else 200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class HealthyHealth(Health):
    def state(self) -> str:
        return "ok"


@contextmanager
def serving(handler: type[Health]) -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def operations() -> Iterator[int]:
    try:
        with serving(Health) as port:
            yield port
    finally:
        Health.consuming = "ok"


@pytest.fixture
def healthy_operations() -> Iterator[int]:
    with serving(HealthyHealth) as port:
        yield port


def a_service(operations_port: int, tmp_path: Path) -> ServiceProcess:
    service = ServiceProcess("triage", 0, operations_port, {}, tmp_path / "triage.log")
    service.process = subprocess.Popen([sys.executable, "-c", AS_A_SERVICE], stdout=subprocess.PIPE)
    assert service.process.stdout is not None and service.process.stdout.readline()
    return service


# A service logs its tasks on SIGUSR1 and goes on; the stand-in only goes on.
AS_A_SERVICE = "import signal, time; signal.signal(signal.SIGUSR1, signal.SIG_IGN); print(1, flush=True); time.sleep(120)"


def test_a_service_whose_health_says_stalled_is_stopped_to_be_started_again(
    operations: int, healthy_operations: int, tmp_path: Path
) -> None:
    stack = Stack(StackOptions(home=tmp_path))
    service = a_service(operations, tmp_path)
    healthy = a_service(healthy_operations, tmp_path)
    stack.services = [service, healthy]
    try:
        stack._stop_the_stalled(time.monotonic())
        assert service.process is not None and service.process.poll() is None, "ok: left alone"
        Health.consuming = "stalled"
        stack._stop_the_stalled(time.monotonic())
        assert service.process.poll() is None, "asked at most every STALL_CHECK_SECONDS"
        stack.next_stall_check = 0.0
        stack._stop_the_stalled(time.monotonic())
        assert service.process.wait(10) == -15, "SIGTERM: the supervision loop starts it again"
        assert service.stopping_since > 0
        assert healthy.process is not None and healthy.process.poll() is None, "a healthy one: left alone"
        assert not healthy.stopping_since
    finally:
        for process in (service.process, healthy.process):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def test_a_stalled_service_that_ignores_sigterm_is_killed_after_the_grace(
    tmp_path: Path, operations: int
) -> None:
    stack = Stack(StackOptions(home=tmp_path))
    service = ServiceProcess("triage", 0, operations, {}, tmp_path / "triage.log")
    service.process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + AS_A_SERVICE,
        ],
        stdout=subprocess.PIPE,
    )
    assert service.process.stdout is not None and service.process.stdout.readline()
    stack.services = [service]
    try:
        Health.consuming = "stalled"
        now = time.monotonic()
        stack._stop_the_stalled(now)
        time.sleep(0.5)
        assert service.process.poll() is None, "it ignored SIGTERM"
        stack._stop_the_stalled(now + 11)
        assert service.process.wait(10) == -9
    finally:
        if service.process.poll() is None:
            service.process.kill()


def a_dead_service(tmp_path: Path, name: str, restarts: int, ran_for: float, now: float) -> ServiceProcess:
    service = ServiceProcess(name, 0, 0, {}, tmp_path / f"{name}.log")
    service.process = subprocess.Popen([sys.executable, "-c", "pass"])
    service.process.wait()
    service.restarts, service.started_at = restarts, now - ran_for
    return service


def test_a_service_that_ran_a_while_before_it_died_starts_again_at_the_shortest_back_off(
    tmp_path: Path,
) -> None:
    now = time.monotonic()
    steady = a_dead_service(tmp_path, "intake", restarts=6, ran_for=600, now=now)
    looping = a_dead_service(tmp_path, "triage", restarts=6, ran_for=1, now=now)
    stack = Stack(StackOptions(home=tmp_path))
    stack.services = [steady, looping]
    stack._restart_the_dead(now)
    assert steady.next_start == now + 1, "six deaths long ago do not make it wait the ceiling"
    assert looping.next_start == now + RESTART_BACKOFF_CEILING, "one dying at once still backs off"
