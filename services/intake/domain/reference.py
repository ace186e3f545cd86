"""Tip references: short enough to read over the phone, too many to guess."""

from __future__ import annotations

import secrets

# Crockford's base 32: no I, L, O or U, so a reference read aloud cannot be misheard as another.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """Draw a reference such as ``LT-7K3M-9QXD`` (40 random bits)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"LT-{symbols[:4]}-{symbols[4:]}"
