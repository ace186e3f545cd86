"""What approving a provider's request writes (services/referral/domain/provider_requests.py): every field
it gives under its HSDS 3.0 name, lists replaced whole, and a street address that never becomes more
public by itself."""

from __future__ import annotations

from datetime import date

import pytest

from services.referral.adapters import datapackage
from services.referral.app import SAMPLE_DIRECTORY
from services.referral.domain import hsds
from services.referral.domain.provider_requests import (
    ProviderDetails,
    RequestRefused,
    listing_change,
    locations_of,
    proposed_changes,
)

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def sample() -> hsds.Tables:
    tables, _sample, problems = datapackage.read(SAMPLE_DIRECTORY)
    assert not problems
    return tables


def details(**fields: object) -> ProviderDetails:
    return ProviderDetails.model_validate({"organization_name": "CORATH", **fields})


def test_a_list_given_replaces_the_services_list_and_a_field_left_out_is_kept(sample: hsds.Tables) -> None:
    before = {k for k, r in sample["language"].items() if r.get("service_id") == "corath-ottawa"}
    change = listing_change(sample, "corath", details(languages=["ar"]), TODAY)
    assert before and before <= change.removed["language"]
    assert [r["code"] for r in change.records["language"].values()] == ["ar"]
    assert change.records["service"]["corath-ottawa"]["name"] == sample["service"]["corath-ottawa"]["name"]
    assert "service_area" not in change.removed and not datapackage.validate(change.records)


def test_a_new_street_address_is_confidential_even_where_the_old_one_was_public(sample: hsds.Tables) -> None:
    public = hsds.merge(sample)
    public["location"]["corath-office"] = {
        **public["location"]["corath-office"],
        "address_confidential": False,
    }
    change = listing_change(
        public, "corath",
        details(address_1="1 Rue X", postal_code="k1p1j1", city="Ottawa", province="ON", address_public=True),
        TODAY,
    )  # fmt: skip
    assert change.records["location"]["corath-office"]["address_confidential"] is True
    assert change.new_addresses == {"corath-office"}
    [address] = change.records["address"].values()
    assert address["postal_code"] == "K1P1J1" and address["location_id"] == "corath-office"
    assert not datapackage.validate(change.records)


def test_only_a_whole_street_address_is_written(sample: hsds.Tables) -> None:
    change = listing_change(sample, "corath", details(address_1="1 Rue X", city="Ottawa"), TODAY)
    assert not change.records["address"] and not change.new_addresses


def test_needs_replace_the_needs_and_leave_the_other_terms(sample: hsds.Tables) -> None:
    change = listing_change(sample, "corath", details(service_types=["legal"]), TODAY)
    updated = hsds.merge(sample, change.records)
    for table, keys in change.removed.items():
        for key in keys:
            updated[table].pop(key, None)
    [profiled] = [p for p in hsds.providers(updated, hsds.Confirmations()) if p.service_id == "corath-ottawa"]
    assert profiled.provider is not None
    assert {need.value for need in profiled.provider.service_types} == {"legal"}


def test_a_request_names_a_service_of_its_own_listing_only(sample: hsds.Tables) -> None:
    with pytest.raises(RequestRefused, match="no_such_service"):
        listing_change(sample, "corath", details(service_id="canadian-ht-hotline"), TODAY)


def test_the_proposed_changes_say_before_and_after_field_by_field(sample: hsds.Tables) -> None:
    change = listing_change(sample, "corath", details(phone="613-555-0100", minimum_age=18), TODAY)
    found = {(c["table"], c["field"]): (c["before"], c["after"]) for c in proposed_changes(sample, change)}
    assert found[("service", "minimum_age")] == (sample["service"]["corath-ottawa"].get("minimum_age"), 18)
    assert found[("phone", "number")][1] == "613-555-0100"
    assert ("organization", "name") in found


def test_the_locations_of_an_organization_include_where_its_services_are_offered(sample: hsds.Tables) -> None:
    assert "corath-office" in locations_of(sample, "corath")
