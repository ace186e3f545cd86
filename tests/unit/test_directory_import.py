"""Reading directory files: an HSDS datapackage joins its tables; bad records are named with their field."""

import json
from pathlib import Path

from services.referral.adapters.directory import parse

DATAPACKAGE = Path(__file__).parents[1] / "data" / "hsds-datapackage"


def test_an_hsds_datapackage_is_read_table_by_table_into_validated_providers() -> None:
    organizations, problems = parse(DATAPACKAGE / "datapackage.json")
    assert problems == []
    services = {service.id: service for organization in organizations for service in organization.services}
    shelter = services["sample-regina-shelter"]
    assert shelter.open_24_7 and shelter.capacity is not None and shelter.capacity.available == 3
    assert [g.value for g in shelter.genders] == ["woman"]
    assert sorted(services["sample-iqaluit-counselling"].languages) == ["en", "iu"]
    house = next(o for o in organizations if o.id == "sample-regina-house")
    assert not house.public_listing and house.locations[0].confidential_address
    assert all(organization.sample for organization in organizations)


def test_a_bad_table_row_is_named_by_organization_service_and_field(tmp_path: Path) -> None:
    for source in DATAPACKAGE.iterdir():
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    language = tmp_path / "language.csv"
    language.write_text(
        language.read_text(encoding="utf-8") + "5,sample-regina-shelter,zz\n", encoding="utf-8"
    )
    organizations, problems = parse(tmp_path)
    assert len(organizations) == 1
    [problem] = problems
    assert problem.startswith("organization 2 (sample-regina-house): service sample-regina-shelter: ")
    assert "languages.2" in problem and "iso_639" in problem


def test_a_datapackage_whose_resources_point_outside_its_folder_is_refused_unread(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    for source in DATAPACKAGE.iterdir():
        (package / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    secret = tmp_path / "secret.csv"
    secret.write_text("id,name\nleaked-org,Read from outside the package\n", encoding="utf-8")
    (package / "link.csv").symlink_to(secret)
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    for outside in ("../secret.csv", str(secret), "link.csv", "https://example.org/organization.csv"):
        for resource in descriptor["resources"]:
            if resource["name"] == "organization":
                resource["path"] = outside
        (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        organizations, problems = parse(package)
        assert organizations == [], outside
        assert problems == ["datapackage.json: resources organization point outside the package"], outside
