"""Agency keys: sealing packages to an agency and verifying its acknowledgements."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from schemas.disclosure import (
    Basis,
    LawEnforcementPackageV2,
    LiaisonAcknowledgementV2,
    PackageContent,
    RecipientKind,
)
from schemas.triage import Urgency
from services.common.agency_keys import (
    PADDING,
    AgencyKeyError,
    AgencyKeys,
    AgencyPublicKeys,
    PackageUnreadable,
    open_package,
    seal_package,
    sign_acknowledgement,
    signed_by,
)

POLICE = AgencyKeys.generate("ottawa-police-htu")
PROTECTION = AgencyKeys.generate("cas-ottawa")


def package(
    agency_id: str = "ottawa-police-htu", narrative: str = "Il la garde enfermée."
) -> LawEnforcementPackageV2:
    return LawEnforcementPackageV2(
        package_id=uuid.uuid4(), case_reference="LE-7K3M-9QXD", agency_id=agency_id,
        recipient_kind=RecipientKind.POLICE, basis=Basis.IMMINENT_DANGER, policy_version="gate-2026.12.0",
        urgency=Urgency.URGENT, fields=[], content=PackageContent(narrative=[narrative]),
    )  # fmt: skip


def test_a_sealed_package_opens_with_its_agencys_key_only() -> None:
    original = package()
    sealed = seal_package(original, POLICE.public)

    assert open_package(sealed, POLICE) == original
    for other in (PROTECTION, AgencyKeys.generate("ottawa-police-htu")):
        with pytest.raises(PackageUnreadable):
            open_package(sealed, other)


def test_a_seal_moved_under_another_packages_header_does_not_open() -> None:
    first, second = seal_package(package(), POLICE.public), seal_package(package(), POLICE.public)

    with pytest.raises(PackageUnreadable):
        open_package(second.model_copy(update={"sealed": first.sealed}), POLICE)
    with pytest.raises(PackageUnreadable):
        open_package(first.model_copy(update={"case_reference": "LE-0000-0000"}), POLICE)


def test_a_package_is_never_sealed_to_another_agencys_key() -> None:
    with pytest.raises(AgencyKeyError):
        seal_package(package(), PROTECTION.public)


def test_the_sealed_length_shows_only_the_padded_size() -> None:
    short = seal_package(package(narrative="a"), POLICE.public)
    longer = seal_package(package(narrative="a" * 200), POLICE.public)
    assert len(short.sealed) == len(longer.sealed)
    assert len(seal_package(package(narrative="a" * PADDING), POLICE.public).sealed) > len(short.sealed)


def test_an_acknowledgement_verifies_only_with_the_key_of_the_agency_it_names() -> None:
    receipt = LiaisonAcknowledgementV2(
        package_id=uuid.uuid4(), case_reference="LE-7K3M-9QXD", agency_id=POLICE.agency_id
    )
    signed = sign_acknowledgement(receipt, POLICE)

    assert signed_by(signed, POLICE.public)
    assert not signed_by(receipt, POLICE.public), "unsigned"
    assert not signed_by(sign_acknowledgement(receipt, PROTECTION), POLICE.public)
    assert not signed_by(signed, PROTECTION.public)
    assert not signed_by(signed.model_copy(update={"package_id": uuid.uuid4()}), POLICE.public)
    assert not signed_by(signed.model_copy(update={"schema_version": 1}), POLICE.public)
    assert not signed_by(signed.model_copy(update={"signature": "A" * 86}), POLICE.public)


def test_key_files_round_trip_and_the_public_half_holds_no_private_key(tmp_path: Path) -> None:
    path = tmp_path / "agencies" / "police.key.json"
    POLICE.save(path)

    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert AgencyKeys.load(path).public == POLICE.public
    public = POLICE.public.to_json()
    assert AgencyPublicKeys.from_json(public) == POLICE.public
    assert "private" not in public
    with pytest.raises(FileExistsError):
        POLICE.save(path)


def test_a_bad_key_file_is_refused_naming_the_field_never_the_key() -> None:
    data = json.loads(POLICE.to_json())
    secret = data["signing_private_key"]
    for broken, field in (
        ({**data, "signing_private_key": secret[:-4]}, "signing_private_key"),
        ({**data, "agency_id": "Not An Agency"}, "agency_id"),
    ):
        with pytest.raises(AgencyKeyError) as refused:
            AgencyKeys.from_json(json.dumps(broken))
        assert field in str(refused.value) and secret[:10] not in str(refused.value)
    tampered = {**json.loads(POLICE.public.to_json()), "key_id": PROTECTION.public.key_id}
    with pytest.raises(AgencyKeyError, match="key_id"):
        AgencyPublicKeys.from_json(json.dumps(tampered))
