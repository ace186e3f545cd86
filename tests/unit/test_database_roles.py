"""Naming the services' roles and giving each process only its own credentials and keys."""

from __future__ import annotations

from urllib.parse import urlsplit

from lantern.stack import SERVICE_NAMES, service_environment
from services.common.roles import SERVICES, UNSEALING, ServiceRoles, role_prefix, with_credentials

OWNER = "postgresql://postgres@127.0.0.1:5432/lantern_e2e_1a2b"


def test_a_databases_roles_are_named_after_it_and_fit_postgresqls_limit() -> None:
    assert ServiceRoles.generate(role_prefix("lantern")).name("intake") == "lantern_intake"
    assert role_prefix("Lantern-Staging.2") == "lantern_staging_2"
    assert role_prefix("2026") == "db_2026"
    long = ServiceRoles.generate(role_prefix("x" * 200))
    assert all(len(long.name(service).encode()) <= 63 for service in SERVICES)


def test_two_databases_on_one_server_never_share_a_role() -> None:
    first, second = (
        ServiceRoles.generate(role_prefix(name)) for name in ("lantern_test_a", "lantern_test_b")
    )
    assert not {first.name(s) for s in SERVICES} & {second.name(s) for s in SERVICES}


def test_a_service_connects_to_the_owners_server_and_database_as_its_own_role() -> None:
    roles = ServiceRoles("lantern", {"triage": "p@ss/word:1"})
    url = urlsplit(roles.url(OWNER, "triage"))
    assert (url.username, url.hostname, url.port, url.path) == (
        "lantern_triage",
        "127.0.0.1",
        5432,
        "/lantern_e2e_1a2b",
    )
    assert url.password == "p%40ss%2Fword%3A1"  # quoted, so the DSN still parses
    socket = with_credentials("postgresql://postgres:@/lantern?host=/run/pg", "lantern_referral", None)
    assert socket == "postgresql://lantern_referral@/lantern?host=/run/pg"


def test_only_the_services_that_unseal_get_the_key_encryption_key_and_each_only_its_own_dsn() -> None:
    roles = ServiceRoles.generate("lantern")
    shared = {
        "LANTERN_KEK": "from-the-operators-shell",
        "LANTERN_SERVICE_DATABASE_URLS": '{"intake": "postgresql://elsewhere"}',
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    }
    environments = {
        name: service_environment(name, shared, OWNER, roles, {"LANTERN_KEK_FILE": "/home/.lantern/kek"})
        for name in SERVICE_NAMES
    }
    holding = {name for name, env in environments.items() if {"LANTERN_KEK", "LANTERN_KEK_FILE"} & set(env)}
    assert holding == {"intake", "triage", "disclosure"} == UNSEALING
    for name, environment in environments.items():
        assert environment["DATABASE_URL"] == roles.url(OWNER, name)
        assert "LANTERN_SERVICE_DATABASE_URLS" not in environment
        assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"


def test_each_secret_in_the_operators_shell_reaches_only_the_service_that_needs_it() -> None:
    roles = ServiceRoles.generate("lantern")
    shared = {
        "LANTERN_AUDIT_KEY": "audit",
        "LANTERN_AUDIT_KEY_FILE": "/audit.key",
        "LANTERN_IDEMPOTENCY_SECRET": "idempotency",
        "LANTERN_PAGING_WEBHOOK_SECRET": "paging",
    }
    holders = {
        secret: {
            name for name in SERVICE_NAMES if secret in service_environment(name, shared, OWNER, roles, {})
        }
        for secret in shared
    }
    assert holders == {
        "LANTERN_AUDIT_KEY": {"disclosure"},
        "LANTERN_AUDIT_KEY_FILE": {"disclosure"},
        "LANTERN_IDEMPOTENCY_SECRET": {"intake"},
        "LANTERN_PAGING_WEBHOOK_SECRET": {"monitoring"},
    }
