"""Identifiers derived so that handling the same event twice yields the same identifiers."""

from __future__ import annotations

import secrets
import uuid

LANTERN_NAMESPACE = uuid.UUID("6f1f2a52-6f0e-4c43-9a7e-3b0c6d1e5a10")


def derived_event_id(consumer: str, source_event_id: uuid.UUID, event_type: str) -> uuid.UUID:
    """Name the event that ``consumer`` publishes of ``event_type`` in answer to a source event."""
    return uuid.uuid5(LANTERN_NAMESPACE, f"{consumer}/{source_event_id}/{event_type}")


# Crockford's base 32: no I, L, O or U, so a reference read aloud cannot be misheard as another.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def readable_reference(prefix: str) -> str:
    """Draw a reference such as ``LT-7K3M-9QXD``: 40 random bits, easy to read over the phone."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{symbols[:4]}-{symbols[4:]}"
