"""Reading HSDS 3.0 files: Open Referral's own example comes in whole; the profile's fields are optional;
what the file does not say stays confidential; an export reads back the same public records."""

import json
import shutil
from pathlib import Path

from services.referral.adapters import datapackage
from services.referral.adapters.directory import parse
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.domain import hsds

EXAMPLE = Path(__file__).parents[1] / "data" / "hsds-3.0-example"
ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SERVICE = "ac148810-d857-441c-9679-408f346de14b"
LOCATION = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"


def test_open_referrals_example_datapackage_is_read_with_no_record_refused() -> None:
    tables, problems = parse(EXAMPLE)
    assert problems == []
    assert all(len(tables[table]) == 1 for table in hsds.TABLES)


def test_a_service_without_the_profiles_fields_is_kept_and_reported_not_matchable_with_what_it_lacks() -> (
    None
):
    tables, _ = parse(EXAMPLE)
    [profiled] = hsds.providers(tables, hsds.Confirmations())
    assert profiled.service_id == SERVICE and profiled.provider is None
    assert profiled.missing == ("service_area.scope", "attribute (taxonomy term need:…)")


def test_a_record_that_does_not_say_it_may_be_public_stays_out_until_a_specialist_confirms() -> None:
    tables, _ = parse(EXAMPLE)
    assert hsds.public(tables, hsds.Confirmations())["service"] == {}
    confirmed = hsds.public(tables, hsds.Confirmations(public={ORGANIZATION: True}))
    assert list(confirmed["service"]) == [SERVICE]
    location = confirmed["location"][LOCATION]
    assert location["address_confidential"] is True
    assert not set(location) & {
        "latitude",
        "longitude",
        "description",
        "transportation",
        "external_identifier",
    }
    assert confirmed["address"] == {}
    opened = hsds.public(
        tables, hsds.Confirmations(public={ORGANIZATION: True}, address_public={LOCATION: True})
    )
    assert list(opened["address"]) == ["74706e55-df26-4b84-80fe-ecc30b5befb4"]


def test_an_organization_that_opted_out_shows_nothing_of_its_own_in_public() -> None:
    tables, _ = parse(SAMPLE_DIRECTORY)
    shown = hsds.public(tables, hsds.Confirmations())
    assert "deborahs-gate-shelter" in tables["service"] and "deborahs-gate-shelter" not in shown["service"]
    assert "SAMPLE confidential address" not in json.dumps(shown)
    listed = {key for key, org in tables["organization"].items() if org.get("public_listing") is True}
    assert set(shown["organization"]) == listed


def test_an_export_of_the_public_directory_reads_back_as_the_same_public_records(tmp_path: Path) -> None:
    sample, _ = parse(SAMPLE_DIRECTORY)
    example, _ = parse(EXAMPLE)
    confirmations = hsds.Confirmations(public={ORGANIZATION: True})
    shown = hsds.public(hsds.merge(hsds.profile_taxonomy(), sample, example), confirmations)
    datapackage.write(shown, tmp_path / "export", sample=False)
    again, problems = parse(tmp_path / "export")
    assert problems == []
    assert hsds.public(again, hsds.Confirmations()) == shown


def test_a_record_that_breaks_an_hsds_rule_is_named_by_table_id_and_field_never_by_value(
    tmp_path: Path,
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "package")
    services = tmp_path / "package" / "services.csv"
    header, row = services.read_text(encoding="utf-8").splitlines()[:2]
    broken = row.replace(",active,", ",,").replace(",12,100,", ",twelve,100,")
    services.write_text(f"{header}\n{broken}\n", encoding="utf-8")
    _, problems = parse(tmp_path / "package")
    assert problems == [
        f"service {SERVICE}: minimum_age: must be number; status: not one of the allowed values"
    ]


def test_a_datapackage_whose_resources_point_outside_its_folder_is_refused_unread(tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(EXAMPLE, package)
    secret = tmp_path / "secret.csv"
    secret.write_text("id,name,description\nleaked-org,Read from outside the package,x\n", encoding="utf-8")
    (package / "link.csv").symlink_to(secret)
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    for outside in ("../secret.csv", str(secret), "link.csv", "https://example.org/organization.csv"):
        for resource in descriptor["resources"]:
            if resource["name"] == "organization":
                resource["path"] = outside
        (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        tables, problems = parse(package)
        assert tables["organization"] == {}, outside
        assert problems == ["datapackage.json: resources organization point outside the package"], outside
