"""The disclosure audit's heads, published on ``audit.heads.v1`` after each event or request that appended.

A head names the chain's last entry by its sequence and its link (an HMAC under the audit key), and
nothing else: no tip, no action. Anyone keeping the heads can later show that the audit table lost
entries or was rewritten (``lantern audit verify``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.envelope import Contract, utc_now

HEADS_NAMESPACE = uuid.UUID("6f1d3c2e-5a4b-4c8d-9e7f-0a1b2c3d4e5f")
# Every head of the one chain on one partition, so they are read in the order appended.
HEADS_PARTITION_KEY = b"disclosure.audit"

Link = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class AuditHeadV1(Contract):
    """The disclosure audit's chain after an append: its last entry's sequence and link."""

    message_type: Literal["audit.head"] = "audit.head"
    schema_version: Literal[1] = 1
    head_id: uuid.UUID = Field(
        description="Derived from the sequence and the link: the same head, the same id."
    )
    producer: Literal["disclosure"] = "disclosure"
    seq: int = Field(ge=1)
    link: Link = Field(description="The entry's HMAC-SHA256 link, hex.")
    key_id: KeyId = Field(description="Names the audit key the link was made with, without revealing it.")
    appended_at: AwareDatetime = Field(default_factory=utc_now)

    @classmethod
    def of(cls, seq: int, link: bytes, key_id: str) -> AuditHeadV1:
        head_id = uuid.uuid5(HEADS_NAMESPACE, f"{seq}/{link.hex()}")
        return cls(head_id=head_id, seq=seq, link=link.hex(), key_id=key_id)

    @property
    def partition_key(self) -> bytes:
        return HEADS_PARTITION_KEY
