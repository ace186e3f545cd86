"""The agencies' public keys on PostgreSQL (``agency_keys``): one current key per agency, the retired
ones kept for the acknowledgements of packages sealed to them."""

from __future__ import annotations

from collections.abc import Collection

import asyncpg

from services.common.agency_keys import AgencyPublicKeys, RegisteredAgencyKey


class PostgresAgencyKeys:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def current(self, agency_id: str) -> AgencyPublicKeys | None:
        row = await self.connection.fetchrow(
            "SELECT agency_id, encryption_public_key, signing_public_key FROM agency_keys"
            " WHERE agency_id = $1 AND retired_at IS NULL",
            agency_id,
        )
        return _keys(row) if row is not None else None

    async def current_of(self, agency_ids: Collection[str]) -> dict[str, AgencyPublicKeys]:
        rows = await self.connection.fetch(
            "SELECT agency_id, encryption_public_key, signing_public_key FROM agency_keys"
            " WHERE agency_id = ANY($1::text[]) AND retired_at IS NULL",
            list(agency_ids),
        )
        return {row["agency_id"]: _keys(row) for row in rows}

    async def named(self, agency_id: str, key_id: str) -> RegisteredAgencyKey | None:
        row = await self.connection.fetchrow(
            "SELECT agency_id, encryption_public_key, signing_public_key, retired_at FROM agency_keys"
            " WHERE agency_id = $1 AND key_id = $2",
            agency_id, key_id,
        )  # fmt: skip
        return RegisteredAgencyKey(_keys(row), row["retired_at"]) if row is not None else None

    async def register(self, keys: AgencyPublicKeys) -> bool:
        """Make ``keys`` the agency's current key, retiring the one before; False if it already was."""
        async with self.connection.transaction():
            await self.connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext('agency_keys/' || $1))", keys.agency_id
            )
            current = await self.current(keys.agency_id)
            if current is not None and current.key_id == keys.key_id:
                return False
            await self.connection.execute(
                "UPDATE agency_keys SET retired_at = now() WHERE agency_id = $1 AND retired_at IS NULL",
                keys.agency_id,
            )
            await self.connection.execute(
                "INSERT INTO agency_keys (key_id, agency_id, encryption_public_key, signing_public_key)"
                " VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL",
                keys.key_id, keys.agency_id, keys.encryption, keys.signing,
            )  # fmt: skip
            return True

    async def registered(self) -> list[asyncpg.Record]:
        """Every key, current or retired: ids, agencies and times only."""
        return list(
            await self.connection.fetch(
                "SELECT key_id, agency_id, registered_at, retired_at FROM agency_keys"
                " ORDER BY agency_id, registered_at"
            )
        )


def _keys(row: asyncpg.Record) -> AgencyPublicKeys:
    return AgencyPublicKeys(
        row["agency_id"], bytes(row["encryption_public_key"]), bytes(row["signing_public_key"])
    )
