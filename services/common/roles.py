"""Least privilege in the database: each service connects as its own role.

The owner (the role of the owner's DATABASE_URL) runs the migrations and owns every schema; each
service's role may read and write its own schema's rows (never its structure), read the staff
tokens in ``auth``, and touch ``keys`` only if it unseals. Append-only tables take INSERT and
SELECT only, so the grant, not only a trigger, refuses a change. Roles are server-wide, so their
names start with a prefix made from the database's name: two databases on one server never share
one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from services.common.db import AUTH_SCHEMA, KEYS_SCHEMA, RETENTION_SCHEMA

SERVICES = ("intake", "triage", "disclosure", "referral", "monitoring", "workbench")
# The public face of the referral directory (``python -m services.referral.public``): a role of its own
# that reads only the published public directory and may only add providers' requests.
PUBLIC_DIRECTORY = "directory"
ROLES = (*SERVICES, PUBLIC_DIRECTORY)
# What the public directory's role may write: a provider's request (the database audits its arrival).
PUBLIC_REQUEST_COLUMNS = ("request_id", "kind", "organization_id", "details", "language")
OWN_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_RIGHTS = "SELECT, INSERT"
SEQUENCE_RIGHTS = "USAGE, SELECT, UPDATE"
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
# A role name is at most 63 bytes; the longest suffix is "_monitoring".
PREFIX_MAX = 63 - len("_monitoring")


@dataclass(frozen=True)
class Access:
    """What one service's role may do besides reading and writing its own rows."""

    keys: Mapping[str, str] = field(default_factory=dict)
    """Rights on ``keys`` tables: only a service that unseals has any."""
    append_only: frozenset[str] = frozenset()
    """Own tables whose rows are never changed or deleted, by anyone."""
    prunable: frozenset[str] = frozenset()
    """Of ``append_only``, those whose retention job deletes rows: its trigger lets only a shredded
    tip's rows go, and no row change."""
    own_schema: bool = True
    """Whether the role has a schema of its own (every service; not the public directory's role)."""
    reads_staff: bool = True
    """Whether the role reads the staff tokens in ``auth`` (every role that checks a token)."""
    elsewhere: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Rights on named tables (and ``*_seq`` sequences) of another role's schema: schema -> name -> rights."""
    writer_lists: frozenset[str] = frozenset()
    """Own tables naming the roles, besides the owner, that a trigger lets write an audit: the grant
    step names this role in them (only it knows the roles' names); the role only reads them."""


ACCESS: dict[str, Access] = {
    # Intake seals (creates data keys), replays an idempotent submission and shreds.
    "intake": Access(
        # Retention: intake lets the unseal audit, openings and assignment history of a shredded tip
        # go (their triggers).
        keys={"data_keys": "SELECT, INSERT, UPDATE", "unseal_audit": "SELECT, INSERT, DELETE"},
        append_only=frozenset({"assignment_history", "openings"}),
        prunable=frozenset({"openings", "assignment_history"}),
    ),
    "triage": Access(
        keys={"data_keys": "SELECT", "unseal_audit": "INSERT"},
        append_only=frozenset({"urgency_overrides", "plan_actions"}),
        prunable=frozenset({"urgency_overrides", "plan_actions"}),
    ),
    "disclosure": Access(
        keys={"data_keys": "SELECT", "unseal_audit": "INSERT"}, append_only=frozenset({"audit_log"})
    ),
    "referral": Access(
        append_only=frozenset({"referral_history", "provider_audit"}),
        # provider_audit's trigger lets only entries older than its shortest limit go.
        prunable=frozenset({"referral_history", "provider_audit"}),
        # provider_audit refuses a line from any role but referral's and the owner (migration 0009).
        writer_lists=frozenset({"provider_audit_writers"}),
    ),
    "monitoring": Access(),
    # The staff workbench keeps only its sessions; it reads tips through the services' APIs.
    "workbench": Access(),
    # Reachable from the internet: what referral publishes, and a pending request (its audit line is
    # written by the database, never by this role).
    # Never a confidential address, an opted-out provider, a referral or a staff token.
    PUBLIC_DIRECTORY: Access(
        own_schema=False,
        reads_staff=False,
        elsewhere={
            "referral": {
                "public_directory": "SELECT",
                "directory_state": "SELECT",
                "schema_migrations": "SELECT",
                # Only a request's own columns: status, who holds or decided it and when it came in
                # take their defaults (pending, nobody, now), and a trigger refuses any other row.
                "provider_requests": f"INSERT ({', '.join(PUBLIC_REQUEST_COLUMNS)})",
            }
        },
    ),
}

UNSEALING = frozenset(name for name, access in ACCESS.items() if access.keys)
"""The services that hold the key-encryption key; every other one runs without it."""


class RoleSetupError(Exception):
    """The owner could not create or grant the services' roles."""


def role_prefix(database: str) -> str:
    """The prefix of a database's service roles: its name, folded to a plain identifier."""
    folded = re.sub(r"[^a-z0-9_]", "_", database.lower())[:PREFIX_MAX]
    return folded if folded and not folded[0].isdigit() else f"db_{folded}"[:PREFIX_MAX]


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "postgres"


def with_credentials(url: str, user: str, password: str | None) -> str:
    """``url`` logging in as ``user`` (with ``password``) instead of its own user."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    secret = f":{quote(password, safe='')}" if password else ""
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}{secret}@{host}"))


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    Sent instead of the password, so the password never reaches the server's statement log.
    """
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    encode = base64.b64encode
    stored_key = hashlib.sha256(client_key).digest()
    return (
        f"SCRAM-SHA-256${iterations}:{encode(salt).decode()}"
        f"${encode(stored_key).decode()}:{encode(server_key).decode()}"
    )


@dataclass(frozen=True)
class ServiceRoles:
    """The service roles of one database (or of a set of test databases copied from one)."""

    prefix: str
    passwords: Mapping[str, str]

    @classmethod
    def generate(cls, prefix: str) -> ServiceRoles:
        return cls(prefix, {service: secrets.token_urlsafe(32) for service in ROLES})

    def name(self, service: str) -> str:
        return f"{self.prefix}_{service}"

    def url(self, owner_url: str, service: str) -> str:
        """The DSN ``service`` connects with: the owner's server and database, as its own role."""
        return with_credentials(owner_url, self.name(service), self.passwords.get(service))

    def urls(self, owner_url: str) -> dict[str, str]:
        return {service: self.url(owner_url, service) for service in ROLES}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def create_roles(owner_url: str, roles: ServiceRoles) -> None:
    """Create each service's login role, or set its password and attributes again.

    The roles may do nothing but log in; what they may touch is granted database by database.
    """
    connection = await asyncpg.connect(owner_url)
    try:
        for service in ROLES:
            role = _ident(roles.name(service))
            attributes = ROLE_ATTRIBUTES
            password = roles.passwords.get(service)
            secret = f" PASSWORD {_literal(scram_verifier(password))}" if password else ""
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_roles WHERE rolname = $1", roles.name(service)
            )
            try:
                if not exists:
                    try:
                        await connection.execute(f"CREATE ROLE {role} {attributes}{secret}")
                        continue
                    except asyncpg.DuplicateObjectError:
                        pass  # made meanwhile by another process: set it as ours
                await connection.execute(f"ALTER ROLE {role} {attributes}{secret}")
            except asyncpg.InsufficientPrivilegeError as error:
                raise RoleSetupError(
                    "the owner's DATABASE_URL must be a role with CREATEROLE to create the services' roles"
                ) from error
    finally:
        await connection.close()


def _schema_grants(schema: str, name: str, access: Access, existing: set[str]) -> list[str]:
    own, role = _ident(schema), _ident(name)
    statements = [
        f"GRANT USAGE ON SCHEMA {own} TO {role}",
        f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {own} TO {role}",
        # Tables a later migration creates get the same rights at once, before any re-grant.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {own} GRANT {OWN_TABLE_RIGHTS} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {own} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {role}",
    ]
    # A service reads which migrations it has (to refuse to run on an old schema) but never writes them.
    read_only = {"schema_migrations"} | access.writer_lists
    limited = sorted(access.append_only | read_only)
    # Table by table, never all then some taken back: run statement by statement (the printed script),
    # the role would write its writer list in between. A DO block, as the printed script knows only
    # the tables ``ACCESS`` names.
    excluded = ", ".join(_literal(table) for table in limited)
    statements.append(
        "DO $grants$ DECLARE relation regclass; BEGIN"
        " FOR relation IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE n.nspname = {_literal(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        f" AND c.relname <> ALL (ARRAY[{excluded}]::name[]) ORDER BY c.relname"
        f" LOOP EXECUTE format('GRANT {OWN_TABLE_RIGHTS} ON %s TO %I', relation, {_literal(name)});"
        " END LOOP; END $grants$"
    )
    for table in sorted(set(limited) & existing):
        kept = APPEND_ONLY_RIGHTS if table in access.append_only else "SELECT"
        kept += ", DELETE" if table in access.prunable else ""
        statements.append(f"GRANT {kept} ON {own}.{_ident(table)} TO {role}")
    return statements


async def grant_privileges(owner_url: str, roles: ServiceRoles) -> None:
    """Grant each service's role exactly its rights in the database of ``owner_url``.

    Run as the owner after the migrations; whatever a role held before is revoked first, in the
    same transaction, so a right taken out of ``ACCESS`` is taken from the role too.
    """
    connection = await asyncpg.connect(owner_url)
    try:
        async with connection.transaction():
            # One setup at a time: concurrent GRANTs on one object fail with "tuple concurrently updated".
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('lantern:grants'))")
            database = await connection.fetchval("SELECT current_database()")
            tables = await _tables(connection, [*SERVICES, KEYS_SCHEMA, AUTH_SCHEMA, RETENTION_SCHEMA])
            for statement in grant_statements(database, tables, roles):
                await connection.execute(statement)
    finally:
        await connection.close()


def grant_statements(database: str, tables: Mapping[str, set[str]], roles: ServiceRoles) -> list[str]:
    """The statements that give each service's role exactly its rights (``ACCESS``), given the tables
    of each schema that exists; ``lantern deploy roles`` prints them for a migrated database.
    """
    database_ident = _ident(database)
    statements = [
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {database_ident} FROM PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    for service in ROLES:
        role = _ident(roles.name(service))
        access = ACCESS[service]
        statements.append(f"GRANT CONNECT ON DATABASE {database_ident} TO {role}")
        for schema in tables:
            statements += [
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {_ident(schema)} FROM {role}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {_ident(schema)} FROM {role}",
                f"REVOKE ALL ON SCHEMA {_ident(schema)} FROM {role}",
            ]
        if access.own_schema and service in tables:
            statements += _schema_grants(service, roles.name(service), access, tables[service])
            for table in sorted(access.writer_lists & tables[service]):
                # Whoever was named before (another prefix's role) no longer writes.
                listed = f"{_ident(service)}.{_ident(table)}"
                statements += [
                    f"DELETE FROM {listed}",
                    f"INSERT INTO {listed} (role_name) VALUES ({_literal(roles.name(service))})",
                ]
        for schema, rights_of in access.elsewhere.items():
            if schema not in tables:
                continue
            statements.append(f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {role}")
            for name, rights in rights_of.items():
                if name.endswith("_seq"):
                    statements.append(f"GRANT {rights} ON SEQUENCE {_ident(schema)}.{_ident(name)} TO {role}")
                elif name in tables[schema]:
                    statements.append(f"GRANT {rights} ON {_ident(schema)}.{_ident(name)} TO {role}")
        if access.reads_staff and AUTH_SCHEMA in tables:
            statements += [
                f"GRANT USAGE ON SCHEMA {AUTH_SCHEMA} TO {role}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {AUTH_SCHEMA} TO {role}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {AUTH_SCHEMA} GRANT SELECT ON TABLES TO {role}",
            ]
        if access.own_schema and RETENTION_SCHEMA in tables:
            # Every service's retention job skips a case under a legal hold; only the owner places one.
            statements += [
                f"GRANT USAGE ON SCHEMA {RETENTION_SCHEMA} TO {role}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {RETENTION_SCHEMA} TO {role}",
            ]
        if access.keys and KEYS_SCHEMA in tables:
            statements.append(f"GRANT USAGE ON SCHEMA {KEYS_SCHEMA} TO {role}")
            statements += [
                f"GRANT {rights} ON {KEYS_SCHEMA}.{_ident(table)} TO {role}"
                for table, rights in access.keys.items()
                if table in tables[KEYS_SCHEMA]
            ]
    return statements


async def _tables(connection: asyncpg.Connection, schemas: Iterable[str]) -> dict[str, set[str]]:
    """The tables of each of ``schemas`` that exists."""
    rows = await connection.fetch(
        "SELECT n.nspname AS schema, c.relname AS table FROM pg_namespace n"
        " LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p')"
        " WHERE n.nspname = ANY ($1::text[])",
        list(schemas),
    )
    tables: dict[str, set[str]] = {}
    for row in rows:
        tables.setdefault(row["schema"], set())
        if row["table"] is not None:
            tables[row["schema"]].add(row["table"])
    return tables


async def drop_roles(server_url: str, prefix: str) -> None:
    """Drop the service roles of ``prefix``, once no database grants them anything."""
    connection = await asyncpg.connect(server_url)
    try:
        for service in ROLES:
            await connection.execute(f"DROP ROLE IF EXISTS {_ident(f'{prefix}_{service}')}")
    finally:
        await connection.close()


async def check_own_role(pool: asyncpg.Pool, service: str) -> None:
    """Refuse to run a service as a superuser or as its schema's owner: it would hold every right."""
    row = await pool.fetchrow(
        "SELECT r.rolsuper AS superuser, coalesce(pg_has_role(current_user, n.nspowner, 'MEMBER'), false) AS owner"
        " FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = $1 WHERE r.rolname = current_user",
        service,
    )
    if row is not None and (row["superuser"] or row["owner"]):
        held = "a superuser" if row["superuser"] else f"the owner of the {service} schema"
        raise RoleSetupError(
            f"{service} connects to PostgreSQL as {held}: give it its own role's DATABASE_URL"
            " (see docs/operations.md, database roles)"
        )


def public_allowed_rights() -> dict[tuple[str, str], frozenset[str] | None]:
    """What the public directory's role may hold, from ``ACCESS``: (relation, right) -> the columns it
    may hold the right on, or None for the whole relation."""
    allowed: dict[tuple[str, str], frozenset[str] | None] = {}
    for schema, rights_of in ACCESS[PUBLIC_DIRECTORY].elsewhere.items():
        for name, rights in rights_of.items():
            for right, columns in re.findall(r"(\w+)(?:\s*\(([^)]*)\))?", rights):
                listed = frozenset(column.strip() for column in columns.split(",")) if columns else None
                allowed[(f"{schema}.{name}", right.upper())] = listed
    return allowed


# Every right the public directory's role holds on any table, view or sequence of a schema not
# PostgreSQL's own, a right on some columns counting as one on the table, and every column it may
# insert into or update. Row by row: the right, the relation, and the columns holding it.
PUBLIC_RIGHTS_HELD = """
WITH relations AS (
    SELECT c.oid, c.relkind, format('%s.%s', n.nspname, c.relname) AS relation
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
), held AS (
    SELECT r.oid, r.relation, p.privilege FROM relations r
    CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS p(privilege)
    WHERE r.relkind <> 'S' AND has_any_column_privilege(r.oid, p.privilege)
    UNION ALL
    SELECT r.oid, r.relation, p.privilege FROM relations r
    CROSS JOIN unnest(ARRAY['DELETE', 'TRUNCATE', 'TRIGGER']) AS p(privilege)
    WHERE r.relkind <> 'S' AND has_table_privilege(r.oid, p.privilege)
    UNION ALL
    SELECT r.oid, r.relation, p.privilege FROM relations r
    CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p(privilege)
    WHERE r.relkind = 'S' AND has_sequence_privilege(r.oid, p.privilege)
)
SELECT h.relation, h.privilege, array(
    SELECT a.attname::text FROM pg_attribute a
    WHERE a.attrelid = h.oid AND a.attnum > 0 AND NOT a.attisdropped
      AND h.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
      AND has_column_privilege(h.oid, a.attnum, h.privilege)
    ORDER BY a.attnum
) AS columns
FROM held h ORDER BY h.relation, h.privilege
"""


async def check_public_directory_role(pool: asyncpg.Pool) -> None:
    """Refuse to serve the public directory as any role but its own: named ``directory`` or
    ``<prefix>_directory`` (as ``lantern db setup`` names it), not a superuser, unable to create roles
    or databases, replicate or bypass row security, a member of no role (``pg_read_all_data``,
    ``pg_write_all_data``, referral's or the owner's among them), creating nothing in the database or
    its schemas, using no schema but ``referral`` and ``public``, and holding no right on a table, view or sequence (on some of its columns included)
    but those ``ACCESS`` gives it (``public_allowed_rights``). Given referral's or the owner's
    credentials by mistake, or a role widened since, the public deployment would answer the internet
    with every right they hold.
    """
    row = await pool.fetchrow(
        "SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole,"
        " r.rolcreatedb AS createdb, r.rolreplication AS replication, r.rolbypassrls AS bypassrls,"
        " array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        "  WHERE m.member = r.oid ORDER BY g.rolname) AS member_of,"
        " has_database_privilege(current_database(), 'CREATE') AS creates_schemas,"
        " array(SELECT n.nspname::text FROM pg_namespace n WHERE has_schema_privilege(n.oid, 'CREATE')"
        "  ORDER BY n.nspname) AS creates_in,"
        " array(SELECT n.nspname::text FROM pg_namespace n WHERE has_schema_privilege(n.oid, 'USAGE')"
        "  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' ORDER BY n.nspname) AS uses"
        " FROM pg_roles r WHERE r.rolname = current_user"
    )
    role = str(row["role"]) if row is not None else "unknown"
    held = [] if row is not None else ["no such role"]
    if row is not None:
        held += [
            name for name in ("superuser", "createrole", "createdb", "replication", "bypassrls") if row[name]
        ]
        held += [f"member of {name}" for name in row["member_of"]]
        held += ["CREATE on the database"] if row["creates_schemas"] else []
        held += [f"CREATE on schema {name}" for name in row["creates_in"]]
        # Reaching a schema's functions (those run as their owner among them) needs its USAGE.
        used = {*ACCESS[PUBLIC_DIRECTORY].elsewhere, "public"}
        held += [f"USAGE on schema {name}" for name in row["uses"] if name not in used]
        held += await _rights_beyond_allowed(pool)
    named = role == PUBLIC_DIRECTORY or role.endswith(f"_{PUBLIC_DIRECTORY}")
    if not named or held:
        why = f" ({', '.join(held)})" if held else ""
        raise RoleSetupError(
            f"the public directory connects to PostgreSQL as role {role!r}{why}: DATABASE_URL must name"
            f" the public directory's own role ('{PUBLIC_DIRECTORY}' or '<prefix>_{PUBLIC_DIRECTORY}',"
            " which reads only the published directory), never referral's or the owner's"
            " (see docs/operations.md, database roles)"
        )


async def _rights_beyond_allowed(pool: asyncpg.Pool) -> list[str]:
    """The rights the current role holds beyond ``public_allowed_rights``, as ``RIGHT on relation``
    (or ``RIGHT on relation.column`` for a column outside the allowed ones)."""
    allowed = public_allowed_rights()
    beyond = []
    for row in await pool.fetch(PUBLIC_RIGHTS_HELD):
        relation, right = row["relation"], row["privilege"]
        if (relation, right) not in allowed:
            beyond.append(f"{right} on {relation}")
            continue
        columns = allowed[(relation, right)]
        if columns is not None:
            beyond += [
                f"{right} on {relation}.{column}" for column in row["columns"] if column not in columns
            ]
    return beyond
