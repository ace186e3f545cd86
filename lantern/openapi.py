"""Write each service's OpenAPI document to ``docs/openapi/<service>.json`` (``python -m lantern.openapi``)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from services.common.settings import ServiceSettings

DOCUMENTS = Path(__file__).resolve().parents[1] / "docs" / "openapi"
SERVICES_WITH_AN_API = ("intake", "triage", "disclosure", "referral", "monitoring")


def document(service: str) -> dict[str, Any]:
    """The OpenAPI document as ``service`` serves it at ``/openapi.json``."""
    placeholder = ServiceSettings(DATABASE_URL="postgresql://unused", KAFKA_BOOTSTRAP_SERVERS="unused:9092")
    app = importlib.import_module(f"services.{service}.app").build_app(placeholder)
    openapi: dict[str, Any] = app.openapi()
    return openapi


def path_of(service: str) -> Path:
    return DOCUMENTS / f"{service}.json"


def render(service: str) -> str:
    return json.dumps(document(service), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for name in SERVICES_WITH_AN_API:
        path_of(name).write_text(render(name), encoding="utf-8")
