"""Agency keys from the command line: a liaison unit makes its own, the hotline registers the public
half, and ``lantern up`` provisions a key for every agency that has none on this machine."""

from __future__ import annotations

from pathlib import Path

from services.common.agency_keys import AgencyKeys, AgencyPublicKeys
from services.common.db import connect
from services.disclosure.commands import agency_ids, register_agency_key, registered_agency_keys


def key_path(directory: Path, agency_id: str) -> Path:
    """Where ``lantern up`` keeps an agency's private keys, and where ``lantern liaison`` looks."""
    return directory / f"{agency_id}.key.json"


async def register(database_url: str, keys: AgencyPublicKeys) -> bool:
    connection = await connect(database_url, "disclosure")
    try:
        return await register_agency_key(connection, keys)
    finally:
        await connection.close()


async def provision(database_url: str, directory: Path) -> list[str]:
    """Give every agency without a current key one, its private half in ``directory`` (0600).

    An agency whose key is registered keeps it, wherever its private half is; a key file already in
    ``directory`` is registered rather than replaced. Returns the agencies provisioned.
    """
    connection = await connect(database_url, "disclosure")
    try:
        current = {
            row["agency_id"] for row in await registered_agency_keys(connection) if row["retired_at"] is None
        }
        provisioned = []
        for agency_id in agency_ids():
            if agency_id in current:
                continue
            path = key_path(directory, agency_id)
            if path.exists():
                keys = AgencyKeys.load(path)
            else:
                keys = AgencyKeys.generate(agency_id)
                keys.save(path)
            await register_agency_key(connection, keys.public)
            provisioned.append(agency_id)
        return provisioned
    finally:
        await connection.close()


async def registered(database_url: str) -> list[dict[str, object]]:
    connection = await connect(database_url, "disclosure")
    try:
        return [dict(row) for row in await registered_agency_keys(connection)]
    finally:
        await connection.close()
