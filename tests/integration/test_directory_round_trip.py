"""The public directory through PostgreSQL and the CLI: Open Referral's example datapackage and the
sample directory go in with `lantern directory import`, a specialist confirms with `lantern directory
confirm`, `lantern directory export` writes the public directory, and that export imported into a fresh
database gives the same public records. Opted-out providers and confidential addresses never leave.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lantern.infra import drop_database, ensure_database
from services.common.db import apply_migrations, apply_shared_migrations, connect, service_migrations
from services.referral.adapters import datapackage
from services.referral.adapters.directory import public_tables
from services.referral.app import SAMPLE_DIRECTORY

LANTERN = Path(sys.executable).with_name("lantern")
EXAMPLE = Path(__file__).parents[1] / "data" / "hsds-3.0-example"
REFERRAL_MIGRATIONS = Path(__file__).parents[2] / "services" / "referral" / "migrations"
EXAMPLE_ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
EXAMPLE_LOCATION = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
# Each step is a `lantern` process (a few seconds, far more on a busy machine).
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
async def fresh_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database that has never held a directory: only the referral schema, as the CLI migrates it."""
    name = f"lantern_fresh_{uuid.uuid4().hex[:12]}"
    url = await ensure_database(postgres_server_url, name)
    try:
        yield url
    finally:
        await drop_database(postgres_server_url, name)


async def lantern(database_url: str, *arguments: str) -> str:
    environment = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        str(LANTERN), "directory", *arguments, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, f"lantern directory {arguments[0]}: {err.decode()[-2000:]}"
    return out.decode() + err.decode()


async def public_records(database_url: str) -> dict[str, dict[str, dict[str, object]]]:
    await apply_shared_migrations(database_url)
    await apply_migrations(database_url, "referral", service_migrations(REFERRAL_MIGRATIONS))
    connection = await connect(database_url, "referral")
    try:
        return await public_tables(connection)
    finally:
        await connection.close()


def exported_text(folder: Path, pattern: str = "*") -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob(pattern)))


async def test_an_exported_public_directory_imported_into_a_fresh_database_gives_the_same_public_records(
    database_url: str, fresh_database_url: str, tmp_path: Path
) -> None:
    said = await lantern(database_url, "import", str(EXAMPLE / "datapackage.json"))
    assert "not public until confirmed: organization " + EXAMPLE_ORGANIZATION in said
    await lantern(database_url, "import", str(SAMPLE_DIRECTORY))
    before_confirming = await public_records(database_url)
    assert EXAMPLE_ORGANIZATION not in before_confirming["organization"]
    await lantern(
        database_url, "confirm", "--by", "partnerships", "--organization", EXAMPLE_ORGANIZATION, "--public"
    )

    await lantern(database_url, "export", str(tmp_path / "export"))
    await lantern(fresh_database_url, "import", str(tmp_path / "export"))

    published = await public_records(database_url)
    assert EXAMPLE_ORGANIZATION in published["organization"]
    assert await public_records(fresh_database_url) == published
    await lantern(fresh_database_url, "export", str(tmp_path / "again"))
    assert exported_text(tmp_path / "again") == exported_text(tmp_path / "export")


async def test_an_export_holds_no_opted_out_provider_and_no_confidential_address(
    database_url: str, tmp_path: Path
) -> None:
    await lantern(database_url, "import", str(EXAMPLE))
    await lantern(database_url, "import", str(SAMPLE_DIRECTORY))
    await lantern(
        database_url, "confirm", "--by", "partnerships", "--organization", EXAMPLE_ORGANIZATION, "--public"
    )
    await lantern(database_url, "export", str(tmp_path / "export"))

    # The records, not datapackage.json: its field descriptions quote the specification's own examples.
    exported = exported_text(tmp_path / "export", "*.csv")
    every, _sample, problems = datapackage.read(SAMPLE_DIRECTORY)
    example, _sample, _problems = datapackage.read(EXAMPLE)
    assert problems == []
    opted_out = [key for key, org in every["organization"].items() if org.get("public_listing") is False]
    confidential = {
        key for key, site in every["location"].items() if site.get("address_confidential") is not False
    }
    confidential.add(EXAMPLE_LOCATION)  # the example's file says nothing of it: confidential until confirmed
    assert opted_out and len(confidential) > 1
    for key in opted_out:
        assert key not in exported
        assert every["organization"][key]["name"] not in exported
    hidden = [
        address
        for address in [*every["address"].values(), *example["address"].values()]
        if address["location_id"] in confidential
    ]
    assert hidden, "no address of a confidential location was there to check"
    for address in hidden:
        assert address["id"] not in exported
        assert address["address_1"] not in exported
    assert EXAMPLE_ORGANIZATION in exported
    listed = json.loads((tmp_path / "export" / "datapackage.json").read_text())
    assert listed["resources"]
