"""Every service's OpenAPI document against the running system: schemathesis, every check, 50 examples
an operation, as a supervisor and without a token. What the document allows is accepted, what it
refuses is refused, and every answer is one the document lists, in the shape it gives.

The twelve runs (five services and the public directory, two callers each) share one `lantern up` and
go a few at a time: each mostly waits on a service, and each service is its own process.
`LANTERN_CONFORMANCE_SERVICES` (names, comma-separated) runs some of them only, to try a change locally. Their settings beyond the command line
(phases, the stateful phase's size) are in schemathesis.toml beside this file, with the reasons.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from lantern.launcher import LaunchedStack
from lantern.openapi import SERVICES_WITH_AN_API

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.conformance]
EXAMPLES = int(os.environ.get("LANTERN_CONFORMANCE_EXAMPLES", "50"))
AT_ONCE = int(os.environ.get("LANTERN_CONFORMANCE_PARALLEL", "4"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SETTINGS = Path(__file__).with_name("schemathesis.toml")
CALLERS = ("supervisor", "anonymous")
# Referral's public deployment: the HSDS API and the providers' form, served to anyone (a staff token
# means nothing there, and is sent as well to show it changes nothing).
PUBLIC_DIRECTORY = "public_directory"
TARGETS = (*SERVICES_WITH_AN_API, PUBLIC_DIRECTORY)
# The longest first, so that the short ones fill in around them.
ORDER = ("intake", "referral", "triage", "disclosure", PUBLIC_DIRECTORY, "monitoring")
CHOSEN = tuple(
    name for name in os.environ.get("LANTERN_CONFORMANCE_SERVICES", ",".join(ORDER)).split(",") if name
)


@dataclass(frozen=True)
class Run:
    service: str
    caller: str
    returncode: int
    seconds: float
    output: str
    cases: int
    requests_by_operation: dict[str, int]


@pytest.fixture(scope="module")
def stack_environment(stack_environment: dict[str, str]) -> dict[str, str]:
    # Every public submission would otherwise soon be answered 429, which the document allows but
    # which would leave the rest of the public form untried.
    return {
        **stack_environment,
        "LANTERN_PUBLIC_RATE_LIMIT": "1000000",
        "LANTERN_REGISTRATION_RATE_LIMIT": "1000000",
    }


def conformance_run(stack: LaunchedStack, service: str, caller: str, reports: Path) -> Run:
    url = (
        stack.endpoints["public_directory_url"]
        if service == PUBLIC_DIRECTORY
        else stack.endpoints["services"][service]
    )
    folder = reports / f"{service}-{caller}"
    command = [
        str(SCHEMATHESIS), "--config-file", str(SETTINGS), "run", f"{url}/openapi.json", "--checks", "all",
        "--max-examples", str(EXAMPLES), "--workers", "1", "--seed", "16", "--no-color",
        "--report", "junit,ndjson", "--report-dir", str(folder),
    ]  # fmt: skip
    if caller != "anonymous":
        tokens = json.loads((stack.home / "dev-tokens.json").read_text())
        command += ["--header", f"Authorization: Bearer {tokens[caller]}"]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": os.getcwd(),
    }
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=2400, check=False)
    cases, by_operation = _counted(folder)
    return Run(
        service, caller, run.returncode, time.monotonic() - started,
        f"{run.stdout[-20000:]}\n{run.stderr[-3000:]}", cases, by_operation,
    )  # fmt: skip


def _counted(folder: Path) -> tuple[int, dict[str, int]]:
    """Test cases sent in all, and the fuzzing phase's cases for each operation, from the NDJSON report."""
    total, fuzzed = 0, Counter[str]()
    for path in folder.glob("*.ndjson"):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line) if line.strip() else {}
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorded = finished.get("recorder", {})
            total += len(recorded.get("cases", {}))
            if finished.get("phase") == "fuzzing":
                fuzzed[recorded.get("label", "?")] += len(recorded.get("cases", {}))
    return total, dict(fuzzed)


@pytest.fixture(scope="module")
def conformance(stack: LaunchedStack, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Run]:
    reports = tmp_path_factory.mktemp("schemathesis")
    assert sorted(ORDER) == sorted(TARGETS), "every service with an API is in the order of runs"
    runs = [(service, caller) for service in ORDER if service in CHOSEN for caller in CALLERS]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        done = list(pool.map(lambda pair: conformance_run(stack, *pair, reports), runs))
    summary = {
        "seconds": round(time.monotonic() - started),
        "runs": [
            {"service": run.service, "caller": run.caller, "exit": run.returncode, "seconds": round(run.seconds),
             "cases": run.cases, "operations": len(run.requests_by_operation),
             "fewest_fuzzed": min(run.requests_by_operation.values(), default=0)}
            for run in done
        ],
    }  # fmt: skip
    (reports / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return {(run.service, run.caller): run for run in done}


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("service", TARGETS)
def test_every_service_answers_as_its_openapi_document_says(
    conformance: dict[tuple[str, str], Run], service: str, caller: str
) -> None:
    if service not in CHOSEN:
        pytest.skip(f"LANTERN_CONFORMANCE_SERVICES leaves {service} out")
    run = conformance[(service, caller)]
    assert run.returncode == 0, f"schemathesis found failures on {service} as {caller}:\n{run.output}"
    assert run.requests_by_operation, f"schemathesis tried no operation of {service}:\n{run.output}"
