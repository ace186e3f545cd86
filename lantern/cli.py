"""The ``lantern`` command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import httpx
import typer

from lantern.database import roles_kept_in, set_up
from lantern.demo import load_endpoints
from lantern.stack import DEFAULT_KAFKA_PORT, DEFAULT_PORTS, Stack, StackOptions
from services.common.auth import (
    TOKEN_LIFETIME,
    Role,
    StaffMember,
    add_staff,
    create_token,
    disable_staff,
    list_staff,
    revoke_token,
)
from services.common.db import apply_shared_migrations
from services.common.logging import configure_logging, get_logger
from services.common.retention import Policy
from services.common.roles import ROLES

app = typer.Typer(help="Lantern: the back office of a human-trafficking hotline.", no_args_is_help=True)
HOME = Path(".lantern")
log = get_logger("lantern.cli")
# Distinct so that a script (or a monitor) can tell tampering from a missing anchor; 2 is a usage error.
AUDIT_EXIT = {"intact": 0, "tampered": 1, "unanchored": 3, "wrong_key": 4, "cannot_check": 4}
T = TypeVar("T")


@app.command()
def up(
    intake_port: Annotated[int, typer.Option(help="Port of intake's HTTP edge.")] = DEFAULT_PORTS["intake"],
    triage_port: int = DEFAULT_PORTS["triage"],
    disclosure_port: int = DEFAULT_PORTS["disclosure"],
    referral_port: int = DEFAULT_PORTS["referral"],
    monitoring_port: int = DEFAULT_PORTS["monitoring"],
    workbench_port: Annotated[int, typer.Option(help="Port of the staff workbench.")] = DEFAULT_PORTS[
        "workbench"
    ],
    directory_port: Annotated[
        int, typer.Option(help="Port of the public referral directory (HSDS API, registration form).")
    ] = DEFAULT_PORTS["directory"],
    kafka_port: Annotated[int, typer.Option(help="Port of the local broker.")] = DEFAULT_KAFKA_PORT,
    kafka_advertised_port: Annotated[
        int | None,
        typer.Option(help="Port the broker tells clients to use: a proxy in front of it (the fault suite)."),
    ] = None,
    home: Annotated[Path, typer.Option(help="Where data, logs and endpoints.json live.")] = HOME,
) -> None:
    """Start PostgreSQL and the broker unless configured, then every service."""
    ports = {
        "intake": intake_port,
        "triage": triage_port,
        "disclosure": disclosure_port,
        "referral": referral_port,
        "monitoring": monitoring_port,
        "workbench": workbench_port,
        "directory": directory_port,
    }
    options = StackOptions(
        home=home, ports=ports, kafka_port=kafka_port, kafka_advertised_port=kafka_advertised_port
    )
    raise typer.Exit(Stack(options).run())


@app.command()
def demo(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Submit sample tips to a running stack and print each one's journey."""
    from lantern.demo import load_specialist_token, run_demo

    endpoints = load_endpoints(home / "endpoints.json")
    specialist = os.environ.get("LANTERN_TOKEN") or load_specialist_token(home / "dev-tokens.json")
    raise typer.Exit(1 if endpoints is None else asyncio.run(run_demo(endpoints, specialist)))


token_app = typer.Typer(help="Staff bearer tokens.", no_args_is_help=True)
staff_app = typer.Typer(
    help="Staff accounts: people, their roles, and whether they are active.", no_args_is_help=True
)
tip_app = typer.Typer(help="Operations on one tip.", no_args_is_help=True)
audit_app = typer.Typer(help="The disclosure audit.", no_args_is_help=True)
directory_app = typer.Typer(help="The referral directory.", no_args_is_help=True)
stats_app = typer.Typer(help="Public statistics.", no_args_is_help=True)
inbox_app = typer.Typer(help="Events the services hold: deferred, waiting behind a poisoned one, poisoned.")
dlt_app = typer.Typer(help="Dead-letter topics.", no_args_is_help=True)
outbox_app = typer.Typer(
    help="Outbox rows the relay quarantined: list, release or discard.", no_args_is_help=True
)
db_app = typer.Typer(help="The database: migrations and each service's role.", no_args_is_help=True)
agency_app = typer.Typer(
    help="Agency keys: packages are sealed to them, acknowledgements signed with them.", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Retention: what will go and when, legal holds, and the audit's pruning.", no_args_is_help=True
)
deploy_app = typer.Typer(
    help="Least privilege generated from the code: Kafka ACLs, database grants, topic settings.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")
app.add_typer(staff_app, name="staff")
app.add_typer(tip_app, name="tip")
app.add_typer(audit_app, name="audit")
app.add_typer(directory_app, name="directory")
app.add_typer(stats_app, name="stats")
app.add_typer(inbox_app, name="inbox")
app.add_typer(dlt_app, name="dlt")
app.add_typer(outbox_app, name="outbox")
app.add_typer(db_app, name="db")
app.add_typer(agency_app, name="agency")
app.add_typer(deploy_app, name="deploy")
app.add_typer(retention_app, name="retention")


@deploy_app.command("acls")
def deploy_acls(
    output: Annotated[
        str, typer.Option("--format", help="`kafka-acls` (shell lines) or `json`.")
    ] = "kafka-acls",
) -> None:
    """Print every Kafka ACL the cluster needs: each service's topics and group, each liaison unit's."""
    from lantern.deploy import agencies, kafka_acls, render_acls

    if output not in ("kafka-acls", "json"):
        typer.echo("--format: kafka-acls or json", err=True)
        raise typer.Exit(2)
    typer.echo(render_acls(kafka_acls(agencies()), output))


@deploy_app.command("roles")
def deploy_roles(
    database: Annotated[str, typer.Option(help="The database's name: role names start with it.")] = "lantern",
) -> None:
    """Print the SQL that creates each service's role and grants exactly its rights."""
    from lantern.deploy import role_script

    typer.echo(role_script(database))


@deploy_app.command("secrets")
def deploy_secrets(
    directory: Annotated[
        Path, typer.Argument(help="Where to write them: deploy/secrets for the compose file.")
    ],
    database_host: Annotated[
        str, typer.Option(help="host:port of PostgreSQL, as the services reach it.")
    ] = "postgres:5432",
    database: Annotated[str, typer.Option(help="The database's name: role names start with it.")] = "lantern",
) -> None:
    """Make every secret of a deployment (KEK, audit key, signing keys, database and SCRAM passwords,
    the brokers' CA and certificates), files 0600; one already there is kept, never replaced."""
    from lantern.deploy import write_secrets

    made, kept = write_secrets(directory, database_host, database)
    for name in made:
        typer.echo(f"made {name}")
    for name in kept:
        typer.echo(f"kept {name}")


@deploy_app.command("topics")
def deploy_topics(
    replication: Annotated[int, typer.Option(min=1, help="Copies of each partition: 3 in production.")] = 3,
) -> None:
    """Create every topic (one per agency too) and set its partitions, retention and cleanup, as
    ``schemas/topics.py`` says. Reads KAFKA_BOOTSTRAP_SERVERS and the LANTERN_KAFKA_* client settings."""
    from lantern.deploy import agencies, apply_topics, topics_to_create
    from services.common.kafka import KafkaSecurity
    from services.common.settings import KafkaClientSettings

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        typer.echo("set KAFKA_BOOTSTRAP_SERVERS", err=True)
        raise typer.Exit(2)
    security = KafkaSecurity.of(KafkaClientSettings())
    done = asyncio.run(apply_topics(bootstrap, topics_to_create(agencies()), replication, security))
    typer.echo(
        f"{len(done['created'])} topic(s) created, {len(done['partitions'])} given more partitions,"
        f" {len(done['configured'])} configured"
    )


@stats_app.command("release")
def stats_release(
    period: Annotated[str, typer.Option(help="The quarter, e.g. 2026-Q3.")],
    out: Annotated[Path, typer.Option(help="Where to write the release.")] = Path("releases"),
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """A bilingual release (JSON, CSV, SVG charts, suppression report) that identifies nobody."""
    from lantern.stats import facts_of, write_release
    from services.monitoring.commands import PeriodError, Quarter

    try:
        quarter = Quarter.parse(period)
    except PeriodError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    facts = asyncio.run(facts_of(_database_url(home), quarter))
    for path in write_release(quarter, facts, out / quarter.label):
        typer.echo(str(path))
    typer.echo(
        f"{len(facts)} tips counted in {quarter.label} (a recorded no to statistics excluded)", err=True
    )


@directory_app.command("import")
def directory_import(
    file: Annotated[
        Path,
        typer.Argument(help="An HSDS 3.0 datapackage (its folder or datapackage.json) or nested HSDS JSON."),
    ],
    stale_days: Annotated[int, typer.Option(help="Flag records not verified within this many days.")] = 365,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Validate every record, then import them all (updating in place) or, on any error, none.

    A record without the Canadian profile's fields is stored and reported "not matchable yet"; an
    organization without the profile's public_listing answer stays out of the public directory, and a
    location without address_confidential keeps its address confidential, until `lantern directory confirm`.
    """
    from datetime import timedelta

    from services.referral.commands import ImportReport, import_file

    async def run() -> ImportReport:
        database_url = await _migrated_referral(home)
        return await import_file(database_url, file, timedelta(days=stale_days))

    report = asyncio.run(run())
    for problem in report.errors:
        typer.echo(problem, err=True)
    if report.errors:
        typer.echo(f"{len(report.errors)} record(s) refused; nothing imported", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"imported {report.organizations} organizations, {report.services} services, "
        f"{report.locations} locations; {len(report.stale)} stale (not verified in {stale_days} days); "
        f"{len(report.not_matchable)} not matchable yet; {len(report.unconfirmed)} not public until confirmed"
    )
    for service_id in report.stale:
        typer.echo(f"stale: {service_id}")
    for service_id, missing in report.not_matchable:
        typer.echo(f"not matchable yet: service {service_id} lacks {', '.join(missing)}")
    for organization_id in report.unconfirmed:
        typer.echo(f"not public until confirmed: organization {organization_id}")


@directory_app.command("export")
def directory_export(
    out: Annotated[Path, typer.Argument(help="The folder to write the datapackage in.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """The public directory as an HSDS 3.0 tabular datapackage: opted-out providers and confidential
    addresses are not in it.
    """
    from services.referral.commands import export

    async def run() -> list[Path]:
        return await export(await _migrated_referral(home), out)

    for path in asyncio.run(run()):
        typer.echo(str(path))


@directory_app.command("confirm")
def directory_confirm(
    by: Annotated[str, typer.Option(help="The partnership specialist who confirmed it with the provider.")],
    organization: Annotated[str | None, typer.Option(help="An organization id.")] = None,
    location: Annotated[str | None, typer.Option(help="A location id.")] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public/--not-public",
            help="Organization: may be listed in public. Location: its address may be public.",
        ),
    ] = False,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Record a partnership specialist's answer, which takes precedence over any imported file's."""
    from services.referral.commands import confirm_in

    if (organization is None) == (location is None):
        typer.echo("name one --organization or one --location", err=True)
        raise typer.Exit(2)
    resource, key = ("organization", organization) if organization else ("location", location)

    async def run() -> bool:
        return await confirm_in(await _migrated_referral(home), resource, str(key), public, by)

    if not asyncio.run(run()):
        typer.echo(f"no such {resource}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{resource} {key}: {'public' if public else 'not public'}")


async def _migrated_referral(home: Path) -> str:
    from lantern.stack import SERVICES_DIR
    from services.common.db import apply_migrations, service_migrations

    database_url = _database_url(home)
    await apply_shared_migrations(database_url)
    await apply_migrations(
        database_url, "referral", service_migrations(SERVICES_DIR / "referral" / "migrations")
    )
    return database_url


@app.command()
def liaison(
    agency: Annotated[str, typer.Option(help="The agency id, e.g. ottawa-police-htu.")],
    key_file: Annotated[
        Path | None,
        typer.Option(
            envvar="LANTERN_LIAISON_KEY_FILE",
            help="The agency's private keys (`lantern agency keygen`); by default HOME/agencies/AGENCY.key.json.",
        ),
    ] = None,
    public_keys: Annotated[
        Path | None,
        typer.Option(
            envvar="LANTERN_SIGNING_PUBLIC_KEYS_FILE",
            help="Lantern's services' public keys, to check that disclosure signed each package;"
            " by default HOME/keys/public-keys.json.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Store each opened package here as JSON (0600).")] = None,
    max_packages: Annotated[int | None, typer.Option(help="Stop after this many packages.")] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without one.")
    ] = None,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """A police or child-protection liaison unit: open its packages and acknowledge each one, signed."""
    from lantern.agency import key_path
    from lantern.liaison import run_liaison
    from services.common.agency_keys import AgencyKeyError, AgencyKeys
    from services.common.kafka import KafkaSecurity
    from services.common.settings import KafkaClientSettings
    from services.common.signing import SigningKeyError, configured_verifier

    try:
        keys = AgencyKeys.load(key_file or key_path(home / "agencies", agency))
    except AgencyKeyError as error:
        typer.echo(f"the agency's key file: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        verifier = configured_verifier(public_keys or home / "keys" / "public-keys.json")
    except SigningKeyError as error:
        typer.echo(f"Lantern's public keys: {error}", err=True)
        raise typer.Exit(2) from None
    if keys.agency_id != agency:
        typer.echo(f"the key file is {keys.agency_id}'s, not {agency}'s", err=True)
        raise typer.Exit(2)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    endpoints = None
    if not bootstrap:
        endpoints = load_endpoints(home / "endpoints.json")
        if endpoints is None:
            raise typer.Exit(1)
        bootstrap = str(endpoints["kafka_bootstrap_servers"])
    count = asyncio.run(
        run_liaison(
            bootstrap,
            keys,
            verifier,
            out,
            typer.echo,
            lambda line: typer.echo(line, err=True),
            max_packages,
            idle_timeout,
            KafkaSecurity.of(KafkaClientSettings()),
            _settling_seconds(endpoints),
        )
    )
    typer.echo(f"{count} package(s) acknowledged", err=True)


def _settling_seconds(endpoints: dict[str, Any] | None) -> float:
    """LANTERN_KAFKA_SETTLING_SECONDS; else, against the broker `lantern up` wrote into
    ``endpoints``, the hold it gave its services (Tansu's)."""
    from services.common.settings import KafkaClientSettings

    if endpoints is None or "LANTERN_KAFKA_SETTLING_SECONDS" in os.environ:
        return KafkaClientSettings().kafka_settling_seconds
    return float(endpoints.get("kafka_settling_seconds", 0.0))


@agency_app.command("keygen")
def agency_keygen(
    agency: Annotated[str, typer.Argument(help="The agency id, e.g. ottawa-police-htu.")],
    out: Annotated[Path, typer.Option(help="Where to write the private keys (0600, never overwritten).")],
) -> None:
    """Make an agency's keys (run by its liaison unit): the private file stays with the unit; the
    public half, printed, goes to the hotline for `lantern agency register`."""
    from services.common.agency_keys import AgencyKeyError, AgencyKeys

    try:
        keys = AgencyKeys.generate(agency)
        keys.save(out)
    except AgencyKeyError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    except FileExistsError:
        typer.echo(f"{out} exists: a key file is never overwritten", err=True)
        raise typer.Exit(1) from None
    typer.echo(keys.public.to_json())
    typer.echo(f"private keys of {agency} in {out} (0600): keep them with the liaison unit", err=True)


@agency_app.command("register")
def agency_register(
    public_key: Annotated[Path, typer.Argument(help="The public half `lantern agency keygen` printed.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Register an agency's public key: its packages are sealed to it from now on, and only
    acknowledgements signed with it count. The agency's previous key is retired."""
    from lantern.agency import register
    from services.common.agency_keys import AgencyKeyError, AgencyPublicKeys

    try:
        keys = AgencyPublicKeys.from_json(public_key.read_text(encoding="utf-8"))
        changed = asyncio.run(register(_database_url(home), keys))
    except AgencyKeyError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    except OSError as error:
        typer.echo(f"{public_key}: cannot be read ({type(error).__name__})", err=True)
        raise typer.Exit(2) from None
    state = "registered" if changed else "already the current key"
    typer.echo(f"{keys.agency_id}\t{keys.key_id}\t{state}")


@agency_app.command("keys")
def agency_keys(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Show every registered agency key: agency, key id, registered, retired (never a key)."""
    from lantern.agency import registered

    for row in asyncio.run(registered(_database_url(home))):
        retired = row["retired_at"].isoformat() if row["retired_at"] else "current"  # type: ignore[attr-defined]
        typer.echo(f"{row['agency_id']}\t{row['key_id']}\t{row['registered_at']:%Y-%m-%d}\t{retired}")


@audit_app.command("verify")
def audit_verify(
    home: Annotated[Path, typer.Option(help="Where `lantern up` keeps its files.")] = HOME,
) -> None:
    """Check the disclosure audit's keyed chain against the heads its witness holds.

    Exit 0: intact and anchored. 1: tampered (the first broken entry named). 3: unanchored (no
    witnessed head: nothing outside the database vouches for the newest entries). 4: cannot check
    (no audit key, not the key the witness recorded, no database). Prints sequence numbers and counts only.
    """
    from lantern.audit import audit_settings
    from services.disclosure.commands import AuditConfigurationError, Status, verify_audit

    settings = audit_settings(home)
    try:
        database_url = _database_url(home)
    except typer.Exit:
        raise typer.Exit(AUDIT_EXIT["cannot_check"]) from None
    try:
        verdict = asyncio.run(verify_audit(database_url, settings))
    except AuditConfigurationError as missing:
        typer.echo(f"audit chain not checked: {missing}", err=True)
        raise typer.Exit(AUDIT_EXIT["cannot_check"]) from None
    except (OSError, asyncpg.PostgresError) as unreachable:
        typer.echo(
            f"audit chain not checked: the database did not answer ({type(unreachable).__name__})", err=True
        )
        raise typer.Exit(AUDIT_EXIT["cannot_check"]) from None
    plain = f"; the first {verdict.plain_entries} predate the audit key" if verdict.plain_entries else ""
    if verdict.status is Status.INTACT:
        newer = f", {verdict.unwitnessed} newer not witnessed yet" if verdict.unwitnessed else ""
        typer.echo(
            f"audit chain intact: {verdict.entries} entries, anchored at entry {verdict.anchored_at}{newer}{plain}"
        )
    elif verdict.status is Status.TAMPERED:
        assert verdict.problem is not None
        where = f" at entry {verdict.problem.seq}" if verdict.problem.seq else ""
        typer.echo(f"audit chain tampered{where}: {verdict.problem.problem}")
    elif verdict.status is Status.UNANCHORED:
        typer.echo(
            f"audit chain unanchored: {verdict.entries} entries check by key, but the witness"
            f" ({settings.audit_witness_file}) holds no head to vouch that none is missing{plain}"
        )
    else:
        typer.echo("audit chain not checked: this audit key is not the one the witness recorded", err=True)
    raise typer.Exit(AUDIT_EXIT[verdict.status.value])


@inbox_app.command("list")
def inbox_list(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Show every held event: service, status, tip, topic, since when and why (ids and codes only)."""
    from lantern.held import list_held

    held = asyncio.run(list_held(_database_url(home)))
    for service, events in held.items():
        for event in events:
            since = event.held_since.isoformat() if event.held_since else "-"
            typer.echo(
                f"{service}\t{event.status}\t{event.tip_key}\t{event.event_id}\t{event.topic}\t{since}"
                f"\t{event.reason or ''}"
            )
    typer.echo(f"{sum(len(events) for events in held.values())} event(s) held", err=True)


@inbox_app.command("set-aside")
def inbox_set_aside(
    service: str,
    event_id: uuid.UUID,
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="A supervisor's token.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Give up on a poisoned event: its effect will not happen, and its tip's waiting events go on."""
    from lantern.held import NotASupervisor, set_aside_event

    try:
        done = asyncio.run(set_aside_event(_database_url(home), service, event_id, token))
    except NotASupervisor:
        typer.echo("a supervisor's token is needed", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"event {event_id} set aside" if done else f"event {event_id} is not poisoned in {service}")
    raise typer.Exit(0 if done else 1)


@dlt_app.command("replay")
def dlt_replay(
    topic: Annotated[str, typer.Argument(help="The dead-letter topic, such as tips.triaged.v1.DLT.")],
    partition: int,
    offset: int,
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="A supervisor's token.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Publish one dead letter again to its original topic, once what made it fail is mended."""
    from lantern.held import NoSuchDeadLetter, NotASupervisor, check_supervisor, replay_dead_letter

    endpoints = load_endpoints(home / "endpoints.json")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        bootstrap = (endpoints or {}).get("kafka_bootstrap_servers")
    else:
        endpoints = None
    if not bootstrap:
        raise typer.Exit(1)
    try:
        asyncio.run(check_supervisor(_database_url(home), token))
        replayed = asyncio.run(
            replay_dead_letter(str(bootstrap), topic, partition, offset, _settling_seconds(endpoints))
        )
    except NotASupervisor:
        typer.echo("a supervisor's token is needed", err=True)
        raise typer.Exit(1) from None
    except NoSuchDeadLetter as missing:
        typer.echo(str(missing), err=True)
        raise typer.Exit(1) from None
    log.info("dead letter replayed", topic=topic, partition=partition, offset=offset)
    typer.echo(f"replayed to {replayed.topic} partition {replayed.partition} offset {replayed.offset}")


@outbox_app.command("list")
def outbox_list(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Show every quarantined row: service, event id, topic, reason, error code, since when, rows held behind."""
    from lantern.held import list_quarantined

    quarantined = asyncio.run(list_quarantined(_database_url(home)))
    for service, rows in quarantined.items():
        for row in rows:
            typer.echo(
                f"{service}\t{row['event_id']}\t{row['topic']}\t{row['reason']}\t{row['last_error']}"
                f"\t{row['quarantined_at']}\t{row['held_behind']} held behind"
            )
    typer.echo(f"{sum(len(rows) for rows in quarantined.values())} row(s) quarantined", err=True)


def _settle_outbox_row(home: Path, service: str, event_id: uuid.UUID, token: str, send: bool) -> None:
    from lantern.held import NotASupervisor, settle_quarantined
    from services.common.relay import PackageNotDiscardable

    try:
        done = asyncio.run(settle_quarantined(_database_url(home), service, event_id, token, send=send))
    except NotASupervisor:
        typer.echo("a supervisor's token is needed", err=True)
        raise typer.Exit(1) from None
    except PackageNotDiscardable as refused:
        typer.echo(
            f"row {event_id} is a package to {refused.agency}: it is never discarded, since its case"
            " already reads as forwarded. Once the cause is mended, release it"
            f" (lantern outbox release {service} {event_id}); if it cannot be, reach the agency another"
            " way and record that on the case. The row stays quarantined until released.",
            err=True,
        )
        raise typer.Exit(1) from None
    if not done:
        typer.echo(f"row {event_id} is not quarantined in {service}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"row {event_id} {'released: it will be sent again' if send else 'discarded: it will never be sent'}"
    )


@outbox_app.command("release")
def outbox_release(
    service: str,
    event_id: uuid.UUID,
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="A supervisor's token.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Send a quarantined row again once its cause is mended; the rows held behind it follow."""
    _settle_outbox_row(home, service, event_id, token, send=True)


@outbox_app.command("discard")
def outbox_discard(
    service: str,
    event_id: uuid.UUID,
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="A supervisor's token.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Never send a quarantined row (its opened content is emptied); the rows held behind it go on.
    Refused for a package to an agency: release it once the cause is mended."""
    _settle_outbox_row(home, service, event_id, token, send=False)


@db_app.command("setup")
def db_setup(
    passwords: Annotated[
        Path,
        typer.Option(help="JSON file (0600) of the roles' passwords; made on the first run, then reused."),
    ],
) -> None:
    """As the owner (DATABASE_URL): migrate every schema, create each service's role and grant its rights.

    Each service then runs with DATABASE_URL set to its own role (`postgresql://ROLE:PASSWORD@...`).
    """
    from services.common.settings import secret_setting

    owner_url = secret_setting("DATABASE_URL")
    if not owner_url:
        typer.echo("set DATABASE_URL (or its file in LANTERN_SECRETS_DIR) to the owner's DSN", err=True)
        raise typer.Exit(2)
    roles = roles_kept_in(passwords, owner_url)
    asyncio.run(set_up(owner_url, roles))
    for service in ROLES:
        typer.echo(f"{service:<10} role {roles.name(service)}")
    typer.echo(f"passwords in {passwords}")


def _database_url(home: Path) -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    endpoints = load_endpoints(home / "endpoints.json")
    if endpoints is None:
        raise typer.Exit(1)
    return str(endpoints["database_url"])


def _with_auth(home: Path, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` on one connection to the database, its staff tables migrated."""

    async def run() -> T:
        database_url = _database_url(home)
        await apply_shared_migrations(database_url)
        connection = await asyncpg.connect(database_url)
        try:
            return await work(connection)
        finally:
            await connection.close()

    return asyncio.run(run())


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="The person's name as staff know them.")],
    role: Annotated[list[Role], typer.Option(help="A role the person holds; repeat for several.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Add a person to the staff and print their person id (for `lantern token create --person`)."""

    async def add(connection: asyncpg.Connection) -> uuid.UUID:
        return await add_staff(connection, name, role)

    try:
        person_id = _with_auth(home, add)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(str(person_id))
    typer.echo(f"{name.strip()} holds {', '.join(dict.fromkeys(r.value for r in role))}", err=True)


@staff_app.command("disable")
def staff_disable(
    person_id: uuid.UUID,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Disable a person: none of their tokens opens anything any more."""

    async def disable(connection: asyncpg.Connection) -> bool:
        return await disable_staff(connection, person_id)

    if not _with_auth(home, disable):
        typer.echo(f"no person {person_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"person {person_id} disabled: their tokens no longer open anything")


@staff_app.command("list")
def staff_list(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Show every person: id, name, roles, active or disabled (never a token)."""

    async def people(connection: asyncpg.Connection) -> list[StaffMember]:
        return await list_staff(connection)

    staff = _with_auth(home, people)
    for person in staff:
        state = "active" if person.active else f"disabled {person.disabled_at:%Y-%m-%d}"
        roles = ",".join(role.value for role in person.roles)
        typer.echo(f"{person.person_id}\t{person.display_name}\t{roles}\t{state}")
    typer.echo(f"{sum(person.active for person in staff)} active, {len(staff)} in all", err=True)


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="What the token may do; the person must hold this role.")],
    person: Annotated[
        uuid.UUID | None,
        typer.Option(help="Whose token this is (`lantern staff add`); without it, a new person is made."),
    ] = None,
    expires_in_days: Annotated[int, typer.Option(min=1, help="Days until the token expires.")] = (
        TOKEN_LIFETIME.days
    ),
    label: Annotated[
        str, typer.Option(help="A note on the token (the new person's name without --person).")
    ] = "",
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Create a staff token and show it once; only its hash is kept."""

    async def create(connection: asyncpg.Connection) -> tuple[uuid.UUID, str]:
        return await create_token(
            connection, role, label, person_id=person, expires_in=timedelta(days=expires_in_days)
        )

    try:
        token_id, token = _with_auth(home, create)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(token)
    typer.echo(
        f"a {role.value} token (id {token_id}, expires in {expires_in_days} days):"
        " keep it now, it cannot be shown again",
        err=True,
    )


@token_app.command("revoke")
def token_revoke(
    token_id: uuid.UUID,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Revoke a token for good (its id was shown when it was created)."""

    async def revoke(connection: asyncpg.Connection) -> bool:
        return await revoke_token(connection, token_id)

    if not _with_auth(home, revoke):
        typer.echo(f"no token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


@tip_app.command("shred")
def tip_shred(
    tip_id: uuid.UUID,
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="An admin token.")],
    reason: Annotated[
        str,
        typer.Option(
            help="Why, as a code: reporter_request, safety, legal_order, retention or entered_in_error."
        ),
    ],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Delete a tip's data key: its identifying data becomes unreadable everywhere, for good.

    The shred is recorded with the admin behind the token and the reason.
    """
    endpoints = load_endpoints(home / "endpoints.json")
    if endpoints is None:
        raise typer.Exit(1)
    response = httpx.post(
        f"{endpoints['intake_url']}/v1/admin/tips/{tip_id}/shred",
        headers={"authorization": f"Bearer {token}"},
        json={"reason": reason},
        timeout=30,
    )
    answer = response.json()
    typer.echo(answer.get("detail") or f"tip {tip_id} shredded")
    for error in answer.get("errors", []):
        typer.echo(f"  {error['field']}: {error['message']}", err=True)
    raise typer.Exit(0 if response.status_code == 200 else 1)


def _retention_policy() -> Policy:
    from services.common.retention import Policy, RetentionPolicyError

    try:
        return Policy.from_text(os.environ.get("LANTERN_RETENTION_DAYS"))
    except RetentionPolicyError as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(2) from None


@retention_app.command("report")
def retention_report(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """What each kind of record will let go and when: counts and dates per kind and table, and the
    broker's limits per topic. Nothing identifying. Reads as the owner (DATABASE_URL)."""
    from lantern.retention import render, report
    from schemas.envelope import utc_now

    policy = _retention_policy()
    for line in render(asyncio.run(report(_database_url(home), policy, utc_now()))):
        typer.echo(line)


@retention_app.command("run")
def retention_run(
    passwords: Annotated[
        Path | None,
        typer.Option(help="The roles' passwords (`lantern db setup`); HOME/db-roles.json by default."),
    ] = None,
    home: Annotated[Path, typer.Option(help="Where `lantern up` keeps its files.")] = HOME,
) -> None:
    """Run every service's retention now, each as its own role (each service also runs it every
    LANTERN_RETENTION_EVERY_SECONDS); the audit is pruned apart, by `lantern retention prune-audit`."""
    from lantern.retention import run_services
    from schemas.envelope import utc_now

    policy = _retention_policy()
    owner_url = _database_url(home)
    path = passwords or home / "db-roles.json"
    if not path.exists():
        typer.echo(f"no roles' passwords in {path}: run `lantern db setup` or `lantern up` first", err=True)
        raise typer.Exit(2)
    roles = roles_kept_in(path, owner_url)
    for service, done in asyncio.run(run_services(owner_url, roles, policy, utc_now())):
        typer.echo(f"{service}\t{done.kind.value}\t{done.table}\t{done.rows}")


@retention_app.command("prune-audit")
def retention_prune_audit(
    home: Annotated[Path, typer.Option(help="Where `lantern up` keeps its files.")] = HOME,
) -> None:
    """As the owner: prune the audit entries past the audit's limit behind a checkpoint entry.

    The chain must verify first (as `lantern audit verify`: the audit key and the witness are read the
    same way); it still verifies after. A held case's first entry, and every later one, stay.
    """
    from lantern.audit import audit_settings
    from schemas.envelope import utc_now
    from services.disclosure.commands import (
        AuditConfigurationError,
        AuditNotPrunable,
        AuditPruneContended,
        prune_audit,
    )

    policy = _retention_policy()
    try:
        pruning = asyncio.run(prune_audit(_database_url(home), audit_settings(home), policy, utc_now()))
    except (AuditConfigurationError, AuditNotPrunable, AuditPruneContended) as refused:
        typer.echo(f"audit not pruned: {refused}", err=True)
        raise typer.Exit(1) from None
    if pruning.checkpoint is None:
        typer.echo("audit: nothing past its limit")
        return
    typer.echo(
        f"audit: entries {pruning.first} to {pruning.through} pruned ({pruning.entries}),"
        f" checkpoint at entry {pruning.checkpoint}"
    )


@retention_app.command("hold")
def retention_hold(
    case: Annotated[
        str, typer.Argument(help="The tip id, its reference (LT-...) or its case reference (LE-...).")
    ],
    reason: Annotated[
        str,
        typer.Option(
            help="Why, as a code: court_order, litigation, law_enforcement_request, privacy_complaint"
            " or access_request."
        ),
    ],
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="An admin token.")],
    reference: Annotated[str | None, typer.Option(help="The docket or order number, if any.")] = None,
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Place a legal hold: retention leaves the case untouched until it is lifted (recorded: who, why)."""
    from lantern.retention import HoldReason, HoldRefused, place_hold

    try:
        hold_id, tip_id = asyncio.run(
            place_hold(_database_url(home), case, HoldReason(reason), reference, token)
        )
    except ValueError:
        typer.echo(f"reason: one of {', '.join(r.value for r in HoldReason)}", err=True)
        raise typer.Exit(2) from None
    except HoldRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"legal hold {hold_id} placed on tip {tip_id}")


@retention_app.command("lift")
def retention_lift(
    case: Annotated[
        str, typer.Argument(help="The tip id, its reference (LT-...) or its case reference (LE-...).")
    ],
    reason: Annotated[
        str,
        typer.Option(
            help="Why, as a code: proceedings_ended, order_lifted, request_withdrawn or entered_in_error."
        ),
    ],
    token: Annotated[str, typer.Option(envvar="LANTERN_TOKEN", help="An admin token.")],
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Lift a case's legal hold (recorded: who, why); retention resumes at its next run."""
    from lantern.retention import HoldRefused, LiftReason, lift_hold

    try:
        tip_id = asyncio.run(lift_hold(_database_url(home), case, LiftReason(reason), token))
    except ValueError:
        typer.echo(f"reason: one of {', '.join(r.value for r in LiftReason)}", err=True)
        raise typer.Exit(2) from None
    except HoldRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"legal hold on tip {tip_id} lifted")


@retention_app.command("holds")
def retention_holds(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Every legal hold, standing or lifted: tip, reason, reference, when and by whom (person ids)."""
    from lantern.retention import list_holds

    for row in asyncio.run(list_holds(_database_url(home))):
        lifted = (
            f"lifted {row['lifted_at']:%Y-%m-%d} by {row['lifted_by_person']} ({row['lift_reason']})"
            if row["lifted_at"]
            else "standing"
        )
        typer.echo(
            f"{row['tip_id']}\t{row['reason']}\t{row['reference'] or '-'}\tplaced {row['placed_at']:%Y-%m-%d}"
            f" by {row['placed_by_person']}\t{lifted}"
        )


def main() -> None:
    # The command's own output (a token, a journey) goes to stdout; its logs never do.
    configure_logging("lantern", stream=sys.stderr)
    app()
