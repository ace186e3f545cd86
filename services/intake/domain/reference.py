"""Tip references: short enough to read over the phone, too many to guess."""

from __future__ import annotations

from services.common.ids import readable_reference


def new_reference() -> str:
    """Draw a reference such as ``LT-7K3M-9QXD`` (40 random bits)."""
    return readable_reference("LT")
