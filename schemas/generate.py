"""Write the JSON Schema of every event to ``schemas/jsonschema/`` and the AsyncAPI document of every
topic to ``docs/asyncapi.json`` (``python -m schemas.generate``)."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import asyncapi
from schemas.audit import AuditHeadV1
from schemas.disclosure import LawEnforcementPackageV2, LawEnforcementPackageV3, LiaisonAcknowledgementV2
from schemas.registry import ALL_EVENTS
from schemas.tip import TipSubmission

JSONSCHEMA_DIR = Path(__file__).parent / "jsonschema"
ASYNCAPI_DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"


def rendered_schemas() -> dict[str, str]:
    """Map each committed file name to the JSON Schema text the code defines now."""
    documents: dict[str, str] = {}
    for event in ALL_EVENTS:
        name = (
            f"{event.model_fields['event_type'].default}.v{event.model_fields['schema_version'].default}.json"
        )
        documents[name] = _render(event.model_json_schema(mode="serialization"))
    documents["audit.head.v1.json"] = _render(AuditHeadV1.model_json_schema(mode="serialization"))
    documents["tip-submission.json"] = _render(TipSubmission.model_json_schema(mode="validation"))
    # What a liaison unit reads (sealed, then opened) and writes: agencies implement against these.
    for message in (LawEnforcementPackageV3, LawEnforcementPackageV2, LiaisonAcknowledgementV2):
        name = f"{message.model_fields['message_type'].default}.v{message.model_fields['schema_version'].default}.json"
        documents[name] = _render(message.model_json_schema(mode="serialization"))
    return documents


def _render(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    JSONSCHEMA_DIR.mkdir(exist_ok=True)
    for stale in JSONSCHEMA_DIR.glob("*.json"):
        stale.unlink()
    for name, text in rendered_schemas().items():
        (JSONSCHEMA_DIR / name).write_text(text, encoding="utf-8")
    ASYNCAPI_DOCUMENT.write_text(asyncapi.render(), encoding="utf-8")


if __name__ == "__main__":
    main()
