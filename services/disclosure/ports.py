"""What disclosure's use cases need of storage, in domain terms: PostgreSQL in production
(``adapters.unit_of_work``), memory in tests (``adapters.memory``); one contract suite holds both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from services.common.agency_keys import AgencyPublicKeys, RegisteredAgencyKey
from services.common.messaging import Outbox
from services.common.sealing import DataKey, Keystore
from services.disclosure.domain.audit import Head
from services.disclosure.domain.case import Case, Note
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Source, WithheldPackage


class Cases(Protocol):
    async def get(self, tip_id: uuid.UUID) -> Case | None:
        """The tip's case with its verdicts and packages, held for this transaction alone."""
        ...

    async def with_package(self, package_id: uuid.UUID) -> Case | None:
        """The case a package was issued for, held like ``get``."""
        ...

    async def save(self, case: Case) -> None:
        """Keep the case as it is now, its verdicts and packages with it."""
        ...

    async def due_for_review_flags(self, now: datetime, limit: int) -> list[Case]:
        """Up to ``limit`` cases in a review queue with an at-risk or breach flag due by ``now``, each
        held like ``get``; one a concurrent clock holds is skipped.
        """
        ...


class Withheld(Protocol):
    async def unnoted(self, limit: int) -> list[WithheldPackage]:
        """Up to ``limit`` packages withheld on replay whose audit entry is not written yet, each held
        for this transaction alone; one another transaction holds is skipped."""
        ...

    async def noted(self, package_ids: list[uuid.UUID]) -> None:
        """Record that these packages' audit entries are written."""
        ...


class Sources(Protocol):
    async def add(self, source: Source) -> None:
        """Keep a source's sealed identifiers; the same source again changes nothing."""
        ...

    async def of_tip(self, tip_id: uuid.UUID) -> list[Source]:
        """The tip's own source first, then each follow-up in the order received."""
        ...


class Consents(Protocol):
    async def record(self, tip_id: uuid.UUID, event_id: uuid.UUID, record: ConsentRecord) -> bool:
        """Keep a consent record, whatever its version; False when this event was kept before."""
        ...

    async def history(self, tip_id: uuid.UUID) -> list[ConsentRecord]:
        """Every consent record of the tip, by version then arrival."""
        ...


class Audit(Protocol):
    async def append(self, tip_id: uuid.UUID, note: Note) -> None:
        """Add an entry at the end of the hash-chained audit."""
        ...

    async def trail(self, tip_id: uuid.UUID) -> list[Note]:
        """The tip's entries, oldest first."""
        ...


class Witness(Protocol):
    """Keeps the audit chain's heads outside the database: a file here, write-once storage in production."""

    async def append(self, head: Head) -> None:
        """Add ``head`` durably; never rewrite what was added."""
        ...

    async def heads(self) -> list[Head] | None:
        """Every head added, in order; None when there is no witness at all."""
        ...

    async def last(self) -> Head | None:
        """The head with the highest sequence; None when none was added."""
        ...


class DataKeys(Protocol):
    async def open(
        self, keystore: Keystore, tip_id: uuid.UUID, fields: list[str], purpose: str
    ) -> DataKey | None:
        """The tip's data key, opened for ``purpose`` (a forward, a supervisor's preview) to read
        ``fields``, the unseal audited with both; None once shredded."""
        ...

    async def shredded(self, tip_id: uuid.UUID) -> bool:
        """Whether the tip's data key was shredded (its sealed fields are gone)."""
        ...


class AgencyKeys(Protocol):
    async def current(self, agency_id: str) -> AgencyPublicKeys | None:
        """The agency's registered public keys: packages are sealed to them, acknowledgements verified."""
        ...

    async def current_of(self, agency_ids: Collection[str]) -> dict[str, AgencyPublicKeys]:
        """``current`` of several agencies at once: those with a registered key."""
        ...

    async def named(self, agency_id: str, key_id: str) -> RegisteredAgencyKey | None:
        """One of the agency's keys, current or retired: what verifies an acknowledgement."""
        ...


class DisclosureWork(Protocol):
    """One transaction of disclosure: its repositories, its outbox and what runs after it commits."""

    @property
    def cases(self) -> Cases: ...

    @property
    def sources(self) -> Sources: ...

    @property
    def consents(self) -> Consents: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def keys(self) -> DataKeys: ...

    @property
    def agency_keys(self) -> AgencyKeys: ...

    @property
    def withheld(self) -> Withheld: ...

    @property
    def outbox(self) -> Outbox: ...

    def after_commit(self, action: Callable[[], None]) -> None: ...


class DisclosureTransactions(Protocol):
    def begin(self) -> AbstractAsyncContextManager[DisclosureWork]:
        """A transaction: what is staged on its outbox is written before it commits."""
        ...
