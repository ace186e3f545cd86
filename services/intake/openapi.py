"""Write intake's OpenAPI document to ``docs/openapi/intake.json`` (``python -m services.intake.openapi``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.common.settings import ServiceSettings
from services.intake.app import build_app

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "intake.json"


def document() -> dict[str, Any]:
    """The OpenAPI document as the service serves it at ``/openapi.json``."""
    placeholder = ServiceSettings(DATABASE_URL="postgresql://unused", KAFKA_BOOTSTRAP_SERVERS="unused:9092")
    return build_app(placeholder).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render(), encoding="utf-8")
