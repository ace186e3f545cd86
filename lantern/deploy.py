"""Least privilege generated from the code: the Kafka ACLs from ``schemas.topics`` (who produces and
who consumes each topic), the PostgreSQL grants from ``services.common.roles.ACCESS``, and each
topic's settings applied to a cluster. `lantern deploy acls|roles|topics` print or apply them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import quote

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from schemas.topics import (
    AGENCY_PACKAGE_CONSUMERS,
    AGENCY_PACKAGE_PRODUCERS,
    ALL_TOPICS,
    CONSUMERS,
    LIAISON,
    PRODUCERS,
    SIGNED_BY_AGENCY,
    agency_of,
    agency_topic,
    dead_letter_topic,
    settings_of,
)
from services.common.db import AUTH_SCHEMA, KEYS_SCHEMA, RETENTION_SCHEMA
from services.common.kafka import PLAINTEXT, KafkaSecurity, ensure_topics
from services.common.roles import (
    ACCESS,
    ROLE_ATTRIBUTES,
    ROLES,
    SERVICES,
    ServiceRoles,
    grant_statements,
    role_prefix,
)
from services.common.sealing import KeyEncryptionKey
from services.common.signing import generate_key_files
from services.disclosure.app import agency_topics
from services.disclosure.settings import generate_key_text
from services.monitoring.settings import ROSTER_FILE

# The deploy job's principal: it creates topics and sets their configuration, and is the brokers'
# super user for `kafka-acls.sh`; no service runs as it.
DEPLOY_PRINCIPAL = "lantern-deploy"


def service_principal(service: str) -> str:
    """The SASL user a service connects as; also its SCRAM credential's name."""
    return f"lantern-{service}"


def liaison_principal(agency_id: str) -> str:
    """The SASL user of one agency's liaison unit; also its consumer group (`lantern liaison`)."""
    return f"liaison-{agency_id}"


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: ``principal`` may ``operation`` the literal resource ``name``."""

    principal: str
    resource_type: str
    name: str
    operation: str

    def command(self) -> str:
        """The `kafka-acls.sh` line that adds it (literal pattern: a prefix would reach other topics)."""
        option = {"Topic": "--topic", "Group": "--group"}[self.resource_type]
        return (
            'kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --command-config "$ADMIN_CONFIG"'
            f" --add --allow-principal User:{self.principal} --operation {self.operation}"
            f" {option} {self.name} --resource-pattern-type literal"
        )


def agencies() -> tuple[str, ...]:
    """The agencies disclosure may send packages to (its routing table)."""
    return tuple(sorted(agency for topic in agency_topics() if (agency := agency_of(topic)) is not None))


def kafka_acls(agency_ids: Iterable[str]) -> list[Acl]:
    """Every allow rule the cluster needs, and nothing more.

    A service writes the topics it produces and the dead-letter topic of each it consumes, reads the
    topics it consumes in its own group; monitoring may see (Describe, never Read) the dead-letter
    topics' offsets to count them. A liaison unit reads its own agency's topic in its own group and
    writes acknowledgements. Read and Write imply Describe.
    """
    acls: set[Acl] = set()
    agency_ids = tuple(agency_ids)
    for topic, producers in PRODUCERS.items():
        for producer in producers:
            if producer == SIGNED_BY_AGENCY:
                acls |= {Acl(liaison_principal(a), "Topic", topic, "Write") for a in agency_ids}
            else:
                acls.add(Acl(service_principal(producer), "Topic", topic, "Write"))
    for agency in agency_ids:
        topic = agency_topic(agency)
        acls |= {Acl(service_principal(p), "Topic", topic, "Write") for p in AGENCY_PACKAGE_PRODUCERS}
        assert AGENCY_PACKAGE_CONSUMERS == (LIAISON,)
        liaison = liaison_principal(agency)
        acls |= {Acl(liaison, "Topic", topic, "Read"), Acl(liaison, "Group", liaison, "Read")}
    for topic, consumers in CONSUMERS.items():
        for consumer in consumers:
            principal = service_principal(consumer)
            acls |= {
                Acl(principal, "Topic", topic, "Read"),
                Acl(principal, "Group", consumer, "Read"),
                Acl(principal, "Topic", dead_letter_topic(topic), "Write"),
            }
    watched = [dead_letter_topic(topic) for topic, consumers in CONSUMERS.items() if consumers]
    acls |= {Acl(service_principal("monitoring"), "Topic", topic, "Describe") for topic in watched}
    return sorted(acls)


def topics_to_create(agency_ids: Iterable[str]) -> tuple[str, ...]:
    """Every topic of a deployment: the fixed ones and one per agency."""
    return (*ALL_TOPICS, *(agency_topic(agency) for agency in agency_ids))


def render_acls(acls: list[Acl], form: str) -> str:
    if form == "json":
        return json.dumps([asdict(acl) for acl in acls], indent=2)
    return "\n".join(acl.command() for acl in acls)


def declared_tables() -> dict[str, set[str]]:
    """The tables ``ACCESS`` names, per schema: what the printed grants single out."""
    tables: dict[str, set[str]] = {service: {"schema_migrations"} for service in SERVICES}
    for service, access in ACCESS.items():
        if access.own_schema:
            tables[service] |= set(access.append_only) | set(access.writer_lists)
        for schema, rights_of in access.elsewhere.items():
            tables[schema] |= {name for name in rights_of if not name.endswith("_seq")}
    tables[KEYS_SCHEMA] = {table for access in ACCESS.values() for table in access.keys}
    tables[AUTH_SCHEMA] = set()
    tables[RETENTION_SCHEMA] = set()
    return tables


def role_script(database: str) -> str:
    """The SQL that makes each service's role and grants its rights, to run as the owner after the
    migrations (`lantern db setup` runs the same statements and sets the passwords)."""
    roles = ServiceRoles(role_prefix(database), {})
    lines = [f"-- Lantern's service roles in database {database}; passwords: ALTER ROLE ... PASSWORD."]
    lines += [f'CREATE ROLE "{roles.name(service)}" {ROLE_ATTRIBUTES};' for service in ROLES]
    lines += [f"{statement};" for statement in grant_statements(database, declared_tables(), roles)]
    return "\n".join(lines)


async def apply_topics(
    bootstrap_servers: str,
    names: tuple[str, ...],
    replication: int,
    security: KafkaSecurity = PLAINTEXT,
) -> dict[str, list[str]]:
    """Create the missing topics, then bring every one's partitions (never fewer) and configuration
    to what ``schemas.topics`` says; return what was created and what was changed.
    """
    created = await ensure_topics(bootstrap_servers, names, replication, security)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id=DEPLOY_PRINCIPAL, **security.client_options()
    )
    await admin.start()
    try:
        grown: list[str] = []
        described = await admin.describe_topics(list(names))
        for topic in described:
            wanted = settings_of(topic["topic"]).partitions
            if len(topic["partitions"]) < wanted:
                await admin.create_partitions({topic["topic"]: NewPartitions(total_count=wanted)})
                grown.append(topic["topic"])
        configured = [name for name in names if name not in created]
        try:
            await admin.alter_configs(
                [
                    ConfigResource(
                        ConfigResourceType.TOPIC, name, configs=settings_of(name).configs(replication)
                    )
                    for name in configured
                ]
            )
        except IncompatibleBrokerVersion:
            # Tansu has no AlterConfigs; what it holds was created with its settings.
            configured = []
        return {"created": created, "partitions": grown, "configured": configured}
    finally:
        await admin.close()


# What `lantern deploy secrets` makes, where docker-compose.yml's `secrets:` section reads it.
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
CERTIFICATE_DAYS = 825


def kafka_principals() -> tuple[str, ...]:
    """Every SASL principal of the cluster but the liaison units' (each agency's is made with it)."""
    return ("broker", DEPLOY_PRINCIPAL, *(service_principal(s) for s in SERVICES if s != "workbench"))


def write_secrets(directory: Path, database_host: str, database: str) -> tuple[list[str], list[str]]:
    """Make every secret a deployment needs under ``directory`` (files 0600, folders 0700); a file
    already there is kept, never replaced (rotating a key is a decision, not a side effect). Return
    the files made and the files kept, relative to ``directory``."""
    made: list[str] = []
    kept: list[str] = []

    def put(name: str, make: Callable[[], str | bytes]) -> None:
        path = directory / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists():
            kept.append(name)
            return
        content = make()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as secret:
            secret.write(content.encode() if isinstance(content, str) else content)
        made.append(name)

    def token() -> str:
        return secrets.token_urlsafe(32)

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    put("kek", KeyEncryptionKey.generate_text)
    put("audit-key", generate_key_text)
    put("idempotency-secret", lambda: secrets.token_urlsafe(48))
    put("paging-webhook-secret", lambda: secrets.token_urlsafe(48))
    put("grafana-admin-password", token)
    put("oncall-roster.json", lambda: ROSTER_FILE.read_bytes())
    before = {p.name for p in (directory / "keys").glob("*")} if (directory / "keys").exists() else set()
    generate_key_files(directory / "keys", [service for service in SERVICES if service != "workbench"])
    made += [f"keys/{p.name}" for p in sorted((directory / "keys").glob("*")) if p.name not in before]
    kept += [f"keys/{name}" for name in sorted(before)]

    put("postgres-owner-password", token)
    owner = (directory / "postgres-owner-password").read_text().strip()
    owner_url = f"postgresql://lantern_owner:{quote(owner, safe='')}@{database_host}/{database}"
    put("owner-database-url", lambda: owner_url)
    roles = ServiceRoles.generate(role_prefix(database))
    put(
        "db-role-passwords.json",
        lambda: json.dumps({"prefix": roles.prefix, "passwords": dict(roles.passwords)}, indent=2),
    )
    kept_roles = json.loads((directory / "db-role-passwords.json").read_text())
    missing = set(ROLES) - set(kept_roles["passwords"])
    if missing:
        # Secrets made before a role was added (the public directory's): add its password only.
        kept_roles["passwords"] |= {role: secrets.token_urlsafe(32) for role in sorted(missing)}
        (directory / "db-role-passwords.json").write_text(json.dumps(kept_roles, indent=2))
        made.append("db-role-passwords.json (roles added)")
    roles = ServiceRoles(kept_roles["prefix"], kept_roles["passwords"])
    for service in ROLES:
        put(f"{service}-database-url", partial(roles.url, owner_url, service))

    for principal in kafka_principals():
        put(f"kafka/{principal}-password", token)
    ca_key, ca = _certificate_authority(directory / "kafka", put)
    for broker in BROKERS:
        put(f"kafka/{broker}.pem", partial(_broker_pem, broker, ca_key, ca))
    for path in directory.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)
    return made, kept


def _certificate_authority(
    directory: Path, put: Callable[[str, Callable[[], str | bytes]], None]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The brokers' CA: its key (kept to sign a new broker's certificate) and its certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    put("kafka/ca.key", lambda: key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    loaded = load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lantern Kafka CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(loaded.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(loaded, hashes.SHA256())
    )
    put("kafka/ca.pem", lambda: certificate.public_bytes(Encoding.PEM))
    stored = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    return loaded, stored


def _broker_pem(broker: str, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate) -> bytes:
    """A broker's key and certificate in one PEM (Kafka's PEM keystore); CN=<broker> is the name the
    controller listener's mTLS maps to the controller principal."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, broker)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(broker)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()) + certificate.public_bytes(
        Encoding.PEM
    )
