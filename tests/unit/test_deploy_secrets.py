"""`lantern deploy secrets`: every secret the compose file reads, each usable as its reader expects,
files 0600, and nothing ever replaced by a second run."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from lantern.cli import app
from lantern.database import roles_kept_in
from lantern.deploy import BROKERS, kafka_principals, write_secrets
from services.common.roles import SERVICES
from services.common.sealing import KeyEncryptionKey
from services.common.signing import parse_public_keys, read_private_key
from services.disclosure.settings import parse_key

ROOT = Path(__file__).resolve().parents[2]


def compose_secret_files() -> set[str]:
    """The files under deploy/secrets/ that docker-compose.yml's `secrets:` section reads."""
    declared = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["secrets"]
    prefix = "./deploy/secrets/"
    assert all(secret["file"].startswith(prefix) for secret in declared.values())
    return {secret["file"].removeprefix(prefix) for secret in declared.values()}


def every_file(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_it_makes_every_secret_the_compose_file_reads_readable_by_its_owner_only(tmp_path):
    directory = tmp_path / "secrets"
    result = CliRunner().invoke(app, ["deploy", "secrets", str(directory)])
    assert result.exit_code == 0, result.output
    made = every_file(directory)
    assert compose_secret_files() <= set(made)
    for path in [directory, *directory.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    for secret in made.values():
        assert secret.decode(errors="replace") not in result.output  # names only, never contents


def test_a_second_run_keeps_every_secret_as_it_was(tmp_path):
    directory = tmp_path / "secrets"
    write_secrets(directory, "postgres:5432", "lantern")
    first = every_file(directory)
    made, kept = write_secrets(directory, "postgres:5432", "lantern")
    assert made == [] and set(kept) == set(first)
    assert every_file(directory) == first


def test_each_secret_is_what_its_reader_takes(tmp_path):
    directory = tmp_path / "secrets"
    write_secrets(directory, "db.internal:5432", "hotline")
    KeyEncryptionKey.from_text((directory / "kek").read_text())
    parse_key((directory / "audit-key").read_text(), "LANTERN_AUDIT_KEY")
    public = parse_public_keys((directory / "keys/public-keys.json").read_text())
    for service in set(SERVICES) - {"workbench"}:
        key = read_private_key(directory / f"keys/{service}.key").public_key()
        assert key.public_bytes_raw() in {k.public_bytes_raw() for k in public[service]}
    owner_url = (directory / "owner-database-url").read_text()
    assert owner_url.startswith("postgresql://lantern_owner:") and owner_url.endswith(
        "@db.internal:5432/hotline"
    )
    # `lantern db setup --passwords` reads the file as it is (a mounted secret cannot be rewritten),
    # and each service's DATABASE_URL logs in as the role it creates.
    before = (directory / "db-role-passwords.json").read_bytes()
    roles = roles_kept_in(directory / "db-role-passwords.json", owner_url)
    assert (directory / "db-role-passwords.json").read_bytes() == before
    for service in SERVICES:
        assert (directory / f"{service}-database-url").read_text() == roles.url(owner_url, service)
    passwords = {(directory / f"kafka/{p}-password").read_text() for p in kafka_principals()}
    assert len(passwords) == len(kafka_principals()) and min(map(len, passwords)) >= 40


def test_each_broker_certificate_is_signed_by_the_ca_for_its_own_name(tmp_path):
    directory = tmp_path / "secrets"
    write_secrets(directory, "postgres:5432", "lantern")
    ca = x509.load_pem_x509_certificate((directory / "kafka/ca.pem").read_bytes())
    for broker in BROKERS:
        pem = (directory / f"kafka/{broker}.pem").read_bytes()
        certificate = x509.load_pem_x509_certificate(pem[pem.index(b"-----BEGIN CERTIFICATE-----") :])
        certificate.verify_directly_issued_by(ca)
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == broker
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == [broker]
        key = load_pem_private_key(pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.public_key().public_numbers() == certificate.public_key().public_numbers()


def test_secrets_made_before_the_public_directory_role_get_its_password_and_keep_every_other(tmp_path):
    directory = tmp_path / "secrets"
    write_secrets(directory, "db.internal:5432", "hotline")
    file = directory / "db-role-passwords.json"
    before = json.loads(file.read_text())
    del before["passwords"]["directory"]
    file.write_text(json.dumps(before))
    (directory / "directory-database-url").unlink()
    write_secrets(directory, "db.internal:5432", "hotline")
    after = json.loads(file.read_text())
    assert {k: v for k, v in after["passwords"].items() if k != "directory"} == before["passwords"]
    owner_url = (directory / "owner-database-url").read_text()
    roles = roles_kept_in(file, owner_url)
    assert (directory / "directory-database-url").read_text() == roles.url(owner_url, "directory")
    assert roles.passwords == after["passwords"]
