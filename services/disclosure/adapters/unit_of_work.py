"""Disclosure's unit of work on PostgreSQL: its repositories share the transaction's connection."""

from __future__ import annotations

import asyncpg

from services.common.messaging import PostgresUnitOfWork
from services.common.sealing import Keystore
from services.disclosure.adapters.agency_keys import PostgresAgencyKeys
from services.disclosure.adapters.audit import AuditChain, PostgresAudit
from services.disclosure.adapters.repository import (
    PostgresCases,
    PostgresConsents,
    PostgresDataKeys,
    PostgresSources,
    PostgresWithheld,
)
from services.disclosure.adapters.views import CaseViews


class DisclosureUnitOfWork(PostgresUnitOfWork):
    def __init__(
        self, connection: asyncpg.Connection, keystore: Keystore | None = None, *, chain: AuditChain
    ) -> None:
        super().__init__(connection, keystore)
        self.cases = PostgresCases(connection, self)
        self.sources = PostgresSources(connection, self)
        self.consents = PostgresConsents(connection, self)
        self.audit = PostgresAudit(connection, chain, self)
        self.keys = PostgresDataKeys(connection)
        self.agency_keys = PostgresAgencyKeys(connection)
        self.views = CaseViews(connection)
        self.withheld = PostgresWithheld(connection)
