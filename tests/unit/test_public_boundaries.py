"""Rules at the public edge that need no infrastructure: who a client is, and which city is in clear."""

import json

from schemas.places import listed_city
from schemas.tip import Location
from services.common.client_address import TrustedProxies
from services.disclosure.domain.routing import ROUTING_FILE
from services.intake.domain.places import in_clear


def test_a_forwarded_address_counts_only_when_a_named_proxy_passes_it_on() -> None:
    nobody = TrustedProxies.parse("")
    proxies = TrustedProxies.parse("10.0.0.0/8, 192.0.2.1")
    assert nobody.client_of("192.0.2.1", "203.0.113.7") == "192.0.2.1/32"
    assert proxies.client_of("198.51.100.4", "203.0.113.7") == "198.51.100.4/32", "an unnamed peer"
    assert proxies.client_of("192.0.2.1", "203.0.113.7") == "203.0.113.7/32"
    assert proxies.client_of("192.0.2.1", "203.0.113.7, 10.4.4.4") == "203.0.113.7/32"
    assert proxies.client_of("192.0.2.1", "6.6.6.6, 203.0.113.7") == "203.0.113.7/32", "a client's own hop"
    assert proxies.client_of("192.0.2.1", "not-an-address") == "192.0.2.1/32"
    assert proxies.client_of(None, "203.0.113.7") == "unknown"


def test_an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4() -> None:
    nobody = TrustedProxies.parse("")
    assert nobody.client_of("2001:db8:1:2::1", None) == nobody.client_of("2001:db8:1:2:ffff::9", None)
    assert nobody.client_of("2001:db8:1:2::1", None) == "2001:db8:1:2::/64"
    assert nobody.client_of("2001:db8:1:3::1", None) != nobody.client_of("2001:db8:1:2::1", None)
    assert nobody.client_of("::ffff:203.0.113.7", None) == "203.0.113.7/32"
    assert TrustedProxies.parse("::1").client_of("::1", "[2001:db8::5]:443") == "2001:db8::/64"


def test_a_listed_city_travels_in_the_gazetteers_spelling_and_anything_else_is_to_be_sealed() -> None:
    assert in_clear(Location(country="CA", province="QC", city="montreal")) == (
        Location(country="CA", province="QC", city="Montréal"),
        None,
    )
    assert in_clear(Location(country="CA", city="  saskatoon ")) == (
        Location(country="CA", city="Saskatoon"),
        None,
    )
    address = "12 rue des Érables, chez Lucienne"
    assert in_clear(Location(country="CA", province="QC", city=address)) == (
        Location(country="CA", province="QC"),
        address,
    )
    assert in_clear(Location(country="CA", province="ON", city="Laval")) == (
        Location(country="CA", province="ON"),
        "Laval",
    ), "a city is listed in its own province"
    assert in_clear(Location(country="US", city="Buffalo")) == (Location(country="US"), "Buffalo")
    assert in_clear(Location(country="CA", province="QC")) == (Location(country="CA", province="QC"), None)


def test_every_city_the_routing_table_names_is_in_the_gazetteer() -> None:
    routing = json.loads(ROUTING_FILE.read_text(encoding="utf-8"))
    cities = [
        (entry["province"], entry["city"])
        for section in (routing["police"], routing.get("child_protection", {}))
        for entry in section.get("cities", [])
    ]
    assert cities, "the routing table names cities"
    assert [place for place in cities if listed_city("CA", *place) is None] == []
