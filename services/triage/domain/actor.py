"""Who acted on a triage or a plan, as the audit knows them: a staff token and its role, never a name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    token_id: uuid.UUID
    role: str
