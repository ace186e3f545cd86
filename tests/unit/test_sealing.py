import uuid

import pytest

from services.common.sealing import (
    DataKey,
    KeyConfigurationError,
    KeyEncryptionKey,
    SealingError,
    configured_kek,
)
from services.intake.domain.follow_up import hash_code, matches, new_code, new_salted_hash


def key() -> DataKey:
    return DataKey(uuid.uuid4(), bytes(range(32)))


def test_a_sealed_value_opens_only_for_its_own_tip_and_field() -> None:
    data_key = key()
    sealed = data_key.seal("narrative", "Elle a 15 ans.")
    assert "15 ans" not in sealed
    assert data_key.unseal("narrative", sealed) == "Elle a 15 ans."
    with pytest.raises(SealingError):
        data_key.unseal("contact.name", sealed)
    with pytest.raises(SealingError):
        DataKey(uuid.uuid4(), data_key.key).unseal("narrative", sealed)


def test_a_tampered_sealed_value_does_not_open() -> None:
    data_key = key()
    sealed = data_key.seal("narrative", "texte")
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(SealingError):
        data_key.unseal("narrative", flipped)


def test_sealing_the_same_text_twice_gives_different_ciphertexts() -> None:
    data_key = key()
    assert data_key.seal("narrative", "same") != data_key.seal("narrative", "same")


def test_a_key_encryption_key_must_be_32_bytes_and_is_required() -> None:
    with pytest.raises(KeyConfigurationError):
        KeyEncryptionKey.from_text("c2hvcnQ")
    with pytest.raises(KeyConfigurationError):
        configured_kek(None, None)
    text = KeyEncryptionKey.generate_text()
    assert configured_kek(text, None).kek_id == KeyEncryptionKey.from_text(text).kek_id


def test_a_follow_up_code_matches_its_hash_and_nothing_else() -> None:
    code = new_code()
    salt, digest = new_salted_hash(code)
    assert matches(code, salt, digest)
    assert matches(code.lower().replace("-", " "), salt, digest), "typed casually, it still matches"
    assert not matches(new_code(), salt, digest)
    assert digest != hash_code(code, b"another-salt-16b")
