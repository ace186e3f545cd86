"""Referral's directory cache: the stored version is read once a transaction, not once an event."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.messaging import PostgresUnitOfWork
from services.referral import handlers
from services.referral.domain.directory import Directory


class Stored:
    """The directory's stored version, counting how often it is read and loaded."""

    def __init__(self) -> None:
        self.version, self.reads, self.loads = 1, 0, 0

    async def read_version(self, connection: Any) -> int:
        self.reads += 1
        return self.version

    async def load(self, connection: Any) -> Directory:
        self.loads += 1
        return Directory.of(())


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> Stored:
    stored = Stored()
    monkeypatch.setattr(handlers.directory_store, "version", stored.read_version)
    monkeypatch.setattr(handlers.directory_store, "load", stored.load)
    return stored


def units_of_one_transaction(count: int) -> list[PostgresUnitOfWork]:
    """The units of work of one batch's events: the runtime gives them one ``shared``."""
    shared: dict[str, Any] = {}
    units = [PostgresUnitOfWork(connection=None) for _ in range(count)]  # type: ignore[arg-type]
    for uow in units:
        uow.shared = shared
    return units


async def test_a_batch_of_events_reads_the_directory_version_once(stored: Stored) -> None:
    cache = handlers.DirectoryCache()
    for uow in units_of_one_transaction(5):
        await cache.current(uow)
    assert (stored.reads, stored.loads) == (1, 1)


async def test_each_transaction_reads_the_version_again_and_reloads_a_changed_directory(
    stored: Stored,
) -> None:
    cache = handlers.DirectoryCache()
    await cache.current(units_of_one_transaction(1)[0])
    await cache.current(units_of_one_transaction(1)[0])
    assert (stored.reads, stored.loads) == (2, 1), "an unchanged directory is not loaded again"
    stored.version = 2
    await cache.current(units_of_one_transaction(1)[0])
    assert (stored.reads, stored.loads) == (3, 2)
