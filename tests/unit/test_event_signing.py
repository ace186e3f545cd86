"""Signing and verifying events: what a signature covers, who may sign each topic, and key files."""

import json
import stat
from pathlib import Path

import pytest

from lantern.stack import SERVICE_NAMES, Stack, StackOptions
from schemas import topics
from schemas.registry import EVENTS_BY_TOPIC
from services.common.signing import (
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    EventSigner,
    EventVerifier,
    SigningKeyError,
    Unauthenticated,
    configured_signer,
    configured_verifier,
    generate_key_files,
    generate_private_key,
    parse_public_keys,
    public_key_text,
    signing_input,
)

TOPIC, KEY, PAYLOAD = topics.TIPS_TRIAGED, b"5b0f0a52-0d43-4a57-9b3a-8a2c1f7e6d90", b'{"revision": 1}'
TRIAGE, REFERRAL = generate_private_key(), generate_private_key()
VERIFIER = EventVerifier({"triage": [TRIAGE.public_key()], "referral": [REFERRAL.public_key()]})


def signed(
    signer: str = "triage",
    private_key: object = TRIAGE,
    topic: str = TOPIC,
    key: bytes = KEY,
    payload: bytes = PAYLOAD,
) -> list[tuple[str, bytes | None]]:
    headers = EventSigner(signer, private_key).headers(topic, key, payload)  # type: ignore[arg-type]
    return [(name, value.encode()) for name, value in headers.items()]


def refusal(topic: str = TOPIC, key: bytes = KEY, payload: bytes = PAYLOAD, headers: object = None) -> str:
    with pytest.raises(Unauthenticated) as refused:
        VERIFIER.verify(topic, key, payload, signed() if headers is None else headers)  # type: ignore[arg-type]
    return str(refused.value)


def test_an_event_signed_by_its_topics_producer_verifies_and_names_its_signer() -> None:
    assert VERIFIER.verify(TOPIC, KEY, PAYLOAD, signed()).signer == "triage"


def test_a_changed_payload_key_or_topic_breaks_the_signature() -> None:
    assert refusal(payload=b'{"revision": 99}') == "<signature>:invalid"
    assert refusal(key=b"another tip") == "<signature>:invalid"
    assert refusal(topic=topics.RESPONSE_PLANS) == "<signature>:invalid", "triage writes both topics"


def test_an_unsigned_event_is_refused_whatever_else_its_headers_say() -> None:
    assert refusal(headers=[]) == "<signature>:missing"
    assert refusal(headers=[(SIGNER_HEADER, b"triage")]) == "<signature>:missing"
    assert refusal(headers=[("content-type", b"application/json"), (SIGNATURE_HEADER, None)]) == (
        "<signature>:missing"
    )


def test_a_service_that_may_not_write_the_topic_is_refused_even_with_a_good_signature() -> None:
    assert refusal(headers=signed("referral", REFERRAL)) == "<signer>:not_a_producer_of_topic"


def test_another_services_key_under_the_rightful_producers_name_is_refused() -> None:
    assert refusal(headers=signed("triage", REFERRAL)) == "<signature>:invalid"
    assert refusal(headers=signed("triage", generate_private_key())) == "<signature>:invalid"


def test_the_signer_is_bound_so_a_key_two_services_share_still_speaks_for_one() -> None:
    shared = generate_private_key()
    verifier = EventVerifier({"triage": [shared.public_key()], "disclosure": [shared.public_key()]})
    topic = topics.DISCLOSURES
    headers = dict(EventSigner("triage", shared).headers(topic, KEY, PAYLOAD))
    headers[SIGNER_HEADER] = "disclosure"
    with pytest.raises(Unauthenticated, match="invalid"):
        verifier.verify(topic, KEY, PAYLOAD, [(name, value.encode()) for name, value in headers.items()])


def test_garbled_or_repeated_signature_headers_are_refused() -> None:
    good = signed()
    assert refusal(headers=[(SIGNER_HEADER, b"triage"), (SIGNATURE_HEADER, b"not base64!")]) == (
        "<signature>:malformed"
    )
    assert (
        refusal(headers=[(SIGNER_HEADER, b"triage"), (SIGNATURE_HEADER, b"c2hvcnQ")])
        == "<signature>:malformed"
    )
    assert refusal(headers=[(SIGNER_HEADER, b"\xff"), good[1]]) == "<signature>:malformed"
    assert refusal(headers=[*good, good[1]]) == f"<{SIGNATURE_HEADER}>:repeated"


def test_a_refusal_names_the_check_and_never_a_value() -> None:
    narrative = b"Marie-Claude Tremblay says her cousin cannot leave."
    with pytest.raises(Unauthenticated) as refused:
        VERIFIER.verify(TOPIC, KEY, narrative, [(SIGNER_HEADER, narrative), (SIGNATURE_HEADER, narrative)])
    assert "Marie" not in str(refused.value) and str(refused.value) == "<signature>:malformed"


def test_the_signed_bytes_cannot_be_shifted_between_topic_key_and_payload() -> None:
    assert signing_input("a", b"bc", "triage", b"d") != signing_input("ab", b"c", "triage", b"d")
    assert signing_input("a", b"", "triage", b"bc") != signing_input("a", b"b", "triage", b"c")


def test_every_topic_has_its_producers_and_acknowledgements_are_left_to_the_agency_check() -> None:
    for topic in (*EVENTS_BY_TOPIC, topics.agency_topic("surete-du-quebec")):
        assert topics.producers_of(topic), topic
        assert topics.SIGNED_BY_AGENCY not in topics.producers_of(topic)
    assert topics.producers_of(topics.LE_ACKNOWLEDGEMENTS) == (topics.SIGNED_BY_AGENCY,)
    assert VERIFIER.verify(topics.LE_ACKNOWLEDGEMENTS, KEY, PAYLOAD, []).signer is None
    assert topics.producers_of(topics.agency_topic("spvm")) == ("disclosure",)
    for unknown in (
        "le.referrals.v1",
        "le.referrals.a.b.v1",
        "tips.unknown.v1",
        topics.dead_letter_topic(TOPIC),
    ):
        assert topics.producers_of(unknown) == ()
    with pytest.raises(Unauthenticated, match="not_a_producer_of_topic"):
        VERIFIER.verify("tips.unknown.v1", KEY, PAYLOAD, signed(topic="tips.unknown.v1"))


def test_during_a_rotation_both_the_old_and_the_new_key_verify() -> None:
    new = generate_private_key()
    verifier = EventVerifier({"triage": [TRIAGE.public_key(), new.public_key()]})
    assert verifier.verify(TOPIC, KEY, PAYLOAD, signed()).signer == "triage"
    assert verifier.verify(TOPIC, KEY, PAYLOAD, signed(private_key=new)).signer == "triage"


def test_key_files_are_private_and_kept_and_a_rotated_key_stays_listed(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    document = generate_key_files(directory, ("intake", "triage"))
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "triage.key").stat().st_mode) == 0o600
    first = (directory / "triage.key").read_bytes()
    generate_key_files(directory, ("intake", "triage"))
    assert (directory / "triage.key").read_bytes() == first, "a key that signed stored events is kept"

    (directory / "triage.key").rename(tmp_path / "triage.retired.key")
    generate_key_files(directory, ("intake", "triage"))
    listed = json.loads(document.read_text())
    assert len(listed["triage"]) == 2 and len(listed["intake"]) == 1
    signer = configured_signer("triage", directory / "{service}.key")
    assert public_key_text(signer.public_key()) == listed["triage"][1]
    old = configured_signer("triage", tmp_path / "triage.retired.key")
    verifier = configured_verifier(document)
    for headers in (signer.headers(TOPIC, KEY, PAYLOAD), old.headers(TOPIC, KEY, PAYLOAD)):
        assert (
            verifier.verify(TOPIC, KEY, PAYLOAD, [(k, v.encode()) for k, v in headers.items()]).signer
            == "triage"
        )


def test_a_service_refuses_to_start_without_its_key_or_the_public_keys(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="LANTERN_SIGNING_KEY_FILE"):
        configured_signer("triage", None)
    with pytest.raises(SigningKeyError, match="LANTERN_SIGNING_PUBLIC_KEYS_FILE"):
        configured_verifier(None)
    (tmp_path / "triage.key").write_text("not a key")
    with pytest.raises(SigningKeyError, match="not readable"):
        configured_signer("triage", tmp_path / "triage.key")
    with pytest.raises(SigningKeyError, match="not readable"):
        configured_verifier(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        ("[]", "must map each service"),
        ('{"triage": "abc"}', "must be a list"),
        ('{"triage": ["@@@"]}', "not base64url"),
        ('{"triage": ["AAAA"]}', "not 32 bytes"),
        ("{", "not JSON"),
    ],
)
def test_a_public_keys_document_that_is_not_well_formed_is_refused_whole(document: str, rule: str) -> None:
    with pytest.raises(SigningKeyError, match=rule):
        parse_public_keys(document)


def test_lantern_up_gives_each_service_its_own_key_file_and_everyones_public_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANTERN_SIGNING_KEY_FILE", raising=False)
    monkeypatch.delenv("LANTERN_SIGNING_PUBLIC_KEYS_FILE", raising=False)
    environments = Stack(StackOptions(home=tmp_path))._signing_keys()
    assert set(environments) == set(SERVICE_NAMES)
    listed = parse_public_keys((tmp_path / "keys" / "public-keys.json").read_text())
    for service, environment in environments.items():
        own = Path(environment["LANTERN_SIGNING_KEY_FILE"])
        assert own == tmp_path / "keys" / f"{service}.key" and stat.S_IMODE(own.stat().st_mode) == 0o600
        assert "{service}" not in str(own), "a process is told of its own file only"
        assert Path(environment["LANTERN_SIGNING_PUBLIC_KEYS_FILE"]) == tmp_path / "keys" / "public-keys.json"
        signer = configured_signer(service, own)
        assert [public_key_text(key) for key in listed[service]] == [public_key_text(signer.public_key())]
    assert Stack(StackOptions(home=tmp_path))._signing_keys() == environments, "kept across runs"
