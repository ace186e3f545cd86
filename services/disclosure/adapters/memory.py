"""Disclosure's repositories in memory, for running the use cases without PostgreSQL.

They keep the PostgreSQL repositories' contract (``tests/integration/test_disclosure_repositories.py``
runs the same suite on both): values are copied in and out as if stored, and a transaction that
raises leaves nothing behind.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime

from services.common.agency_keys import AgencyPublicKeys, RegisteredAgencyKey
from services.common.messaging import OutboxMessage, UnitOfWork
from services.common.sealing import (
    DataKey,
    KeyEncryptionKey,
    Keystore,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from services.disclosure.domain.case import Case, Note
from services.disclosure.domain.consent import ConsentRecord
from services.disclosure.domain.packages import Source, SourceKind, WithheldPackage


@dataclass(frozen=True, slots=True)
class Unseal:
    tip_id: uuid.UUID
    purpose: str
    fields: list[str]
    outcome: str


@dataclass
class MemoryStore:
    """What disclosure's schema (and the wrapped keys it opens) would hold."""

    cases: dict[uuid.UUID, Case] = field(default_factory=dict)
    sources: dict[uuid.UUID, Source] = field(default_factory=dict)
    consents: dict[uuid.UUID, dict[uuid.UUID, ConsentRecord]] = field(default_factory=dict)
    audit: list[tuple[uuid.UUID, Note]] = field(default_factory=list)
    wrapped_keys: dict[uuid.UUID, bytes | None] = field(default_factory=dict)
    unseals: list[Unseal] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    agency_keys: dict[str, AgencyPublicKeys] = field(default_factory=dict)
    """Each agency's current public keys."""
    retired_agency_keys: dict[str, RegisteredAgencyKey] = field(default_factory=dict)
    """The keys agencies rotated out, by key id: they still acknowledge what was sealed to them."""
    withheld: dict[uuid.UUID, tuple[WithheldPackage, bool]] = field(default_factory=dict)
    """Packages withheld on replay (a test puts them here, as the relay would), and whether noted."""

    def create_key(self, kek: KeyEncryptionKey, tip_id: uuid.UUID) -> DataKey:
        """A tip's data key, wrapped and kept as intake keeps it."""
        data_key = new_data_key(tip_id)
        self.wrapped_keys[tip_id] = wrap_data_key(kek, data_key)
        return data_key

    def shred(self, tip_id: uuid.UUID) -> None:
        """Erase a tip: its sealed data can never be opened again."""
        self.wrapped_keys[tip_id] = None


class MemoryCases:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def get(self, tip_id: uuid.UUID) -> Case | None:
        kept = self.store.cases.get(tip_id)
        return copy.deepcopy(kept) if kept is not None else None

    async def with_package(self, package_id: uuid.UUID) -> Case | None:
        for tip_id, case in self.store.cases.items():
            if any(package.package_id == package_id for package in case.packages):
                return await self.get(tip_id)
        return None

    async def save(self, case: Case) -> None:
        if case.state is None:
            raise ValueError("a case is kept only once it is decided")
        kept = copy.deepcopy(case)
        kept.verdicts.sort(key=lambda verdict: (verdict.at, verdict.person_id, verdict.kind.value))
        kept.packages.sort(key=lambda package: (package.issued_at, package.package_id))
        self.store.cases[case.tip_id] = kept

    async def due_for_review_flags(self, now: datetime, limit: int) -> list[Case]:
        due = [case for case in self.store.cases.values() if copy.deepcopy(case).due_flags(now)]
        due.sort(key=lambda case: case.review_due_at or now)
        return [copy.deepcopy(case) for case in due[:limit]]


class MemorySources:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def add(self, source: Source) -> None:
        self.store.sources.setdefault(source.source_id, source)

    async def of_tip(self, tip_id: uuid.UUID) -> list[Source]:
        return sorted(
            (source for source in self.store.sources.values() if source.tip_id == tip_id),
            key=lambda source: (source.kind is SourceKind.SUPPLEMENT, source.received_at, source.source_id),
        )


class MemoryConsents:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def record(self, tip_id: uuid.UUID, event_id: uuid.UUID, record: ConsentRecord) -> bool:
        kept = self.store.consents.setdefault(tip_id, {})
        if event_id in kept:
            return False
        kept[event_id] = record
        return True

    async def history(self, tip_id: uuid.UUID) -> list[ConsentRecord]:
        records = self.store.consents.get(tip_id, {})
        return sorted(records.values(), key=lambda record: (record.version, record.recorded_at))


class MemoryAudit:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def append(self, tip_id: uuid.UUID, note: Note) -> None:
        self.store.audit.append((tip_id, copy.deepcopy(note)))

    async def trail(self, tip_id: uuid.UUID) -> list[Note]:
        return [note for of_tip, note in self.store.audit if of_tip == tip_id]


class MemoryDataKeys:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def open(
        self, keystore: Keystore, tip_id: uuid.UUID, fields: list[str], purpose: str
    ) -> DataKey | None:
        wrapped = self.store.wrapped_keys.get(tip_id)
        outcome = "unsealed" if wrapped is not None else "erased"
        self.store.unseals.append(Unseal(tip_id, purpose, list(fields), outcome))
        keystore.unseals[outcome] += 1
        return unwrap_data_key(keystore.kek, tip_id, wrapped) if wrapped is not None else None

    async def shredded(self, tip_id: uuid.UUID) -> bool:
        return self.store.wrapped_keys.get(tip_id) is None


class MemoryAgencyKeys:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def current(self, agency_id: str) -> AgencyPublicKeys | None:
        return self.store.agency_keys.get(agency_id)

    async def current_of(self, agency_ids: Collection[str]) -> dict[str, AgencyPublicKeys]:
        return {
            agency_id: keys for agency_id in agency_ids if (keys := self.store.agency_keys.get(agency_id))
        }

    async def named(self, agency_id: str, key_id: str) -> RegisteredAgencyKey | None:
        current = self.store.agency_keys.get(agency_id)
        if current is not None and current.key_id == key_id:
            return RegisteredAgencyKey(current)
        retired = self.store.retired_agency_keys.get(key_id)
        return retired if retired is not None and retired.keys.agency_id == agency_id else None


class MemoryWithheld:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def unnoted(self, limit: int) -> list[WithheldPackage]:
        return [package for package, noted in self.store.withheld.values() if not noted][:limit]

    async def noted(self, package_ids: list[uuid.UUID]) -> None:
        for package_id in package_ids:
            self.store.withheld[package_id] = (self.store.withheld[package_id][0], True)


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.cases = MemoryCases(store)
        self.sources = MemorySources(store)
        self.consents = MemoryConsents(store)
        self.audit = MemoryAudit(store)
        self.keys = MemoryDataKeys(store)
        self.agency_keys = MemoryAgencyKeys(store)
        self.withheld = MemoryWithheld(store)


class MemoryTransactions:
    """Transactions on a ``MemoryStore``: each works on a copy, kept only if it ends without raising."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryUnitOfWork]:
        working = copy.deepcopy(self.store)
        uow = MemoryUnitOfWork(working)
        yield uow
        working.outbox += uow.outbox.messages
        for stored in fields(MemoryStore):
            setattr(self.store, stored.name, getattr(working, stored.name))
        for action in uow.committed:
            action()
