"""Matching time per tip with a 10,000-provider directory, and the directory's import rate.

    python -m bench.matching [--providers 10000] [--seekers 2000]

The baseline, measured in the same run, is the naive matcher: one pass over every provider checking
the same hard constraints, without the area index. Import: the same providers as an HSDS package,
validated and written to PostgreSQL (the embedded server, or DATABASE_URL's), in records per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lantern.infra import EmbeddedPostgres, drop_database, ensure_database
from schemas.referral import Population
from schemas.tip import GenderIdentity, Need, Province
from services.common.db import apply_migrations, apply_shared_migrations, service_migrations
from services.referral.adapters.directory import import_file
from services.referral.app import SPEC
from services.referral.domain import hsds
from services.referral.domain.directory import Directory
from services.referral.domain.geography import city_coordinates
from services.referral.domain.matching import Seeker, eligible, match_seeker

LANGUAGES = ["en", "fr", "es", "ar", "zh", "pa", "tl", "oj", "cr", "iu", "so", "uk"]


def synthetic_package(count: int, rng: random.Random) -> dict[str, Any]:
    cities = list(city_coordinates())
    organizations = []
    for number in range(count):
        province, city_key = rng.choice(cities)
        lat, lon = city_coordinates()[(province, city_key)]
        scope = rng.choices(["city", "province", "national"], weights=[6, 3, 1])[0]
        area: dict[str, Any] = {"scope": scope}
        if scope != "national":
            area["province"] = province
        if scope == "city":
            area["city"] = city_key
        identifier = f"bench-{number:05d}"
        codes = [f"need:{need}" for need in rng.sample([n.value for n in Need], rng.randint(1, 4))]
        codes += [f"gender:{g}" for g in rng.choice([[], [], [], ["woman"], ["man"]])]
        codes += [f"population-only:{p}" for p in rng.choice([[]] * 8 + [["indigenous"], ["youth"]])]
        codes += [
            f"population-focus:{p}" for p in rng.sample([p.value for p in Population], rng.randint(0, 2))
        ]
        codes += ["trafficking-specialised"] * (rng.random() < 0.3) + ["open-24-7"] * (rng.random() < 0.2)
        service: dict[str, Any] = {
            "id": identifier,
            "name": f"Bench service {number}",
            "status": "active",
            "assured_date": (date.today() - timedelta(days=rng.randint(0, 700))).isoformat(),
            "service_at_locations": [{"id": f"{identifier}-at", "location_id": f"{identifier}-site"}],
            "service_areas": [{"id": f"{identifier}-area", **area}],
            "languages": [
                {"id": f"{identifier}-{code}", "code": code}
                for code in rng.sample(LANGUAGES, rng.randint(1, 3))
            ],
            "attributes": [
                {"id": f"{identifier}-{code}", "taxonomy_term_id": hsds.term_id(code)} for code in codes
            ],
        }
        if rng.random() < 0.3:
            service["interpretation_services"] = "On request."
        for key, value in (
            ("minimum_age", rng.choice([None, None, 12, 16, 18])),
            ("maximum_age", rng.choice([None, None, None, 24])),
            ("capacity_available", rng.choice([None, rng.randint(0, 10)])),
        ):
            if value is not None:
                service[key] = value
        organizations.append({
            "id": identifier, "name": f"Bench provider {number}", "description": "Bench.", "sample": True,
            "public_listing": rng.random() > 0.2,
            "locations": [{"id": f"{identifier}-site", "location_type": "physical", "name": city_key,
                           "latitude": lat, "longitude": lon}],
            "services": [service],
        })  # fmt: skip
    return {"profile": "https://lantern.example/hsds-ca/1.0", "sample": True, "organizations": organizations}


def seekers(count: int, rng: random.Random) -> list[Seeker]:
    cities = list(city_coordinates())
    found = []
    for _ in range(count):
        province, city_key = rng.choice(cities)
        found.append(Seeker(
            province=province, city=city_key, languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
            age=rng.choice([None, rng.randint(12, 70)]), gender=rng.choice(list(GenderIdentity)),
            populations=frozenset(rng.sample(list(Population), rng.randint(0, 2))), indigenous_known=True,
            needs=frozenset(rng.sample(list(Need), rng.randint(0, 3))), urgent=rng.random() < 0.3,
        ))  # fmt: skip
    return found


def naive(directory: Directory, seeker: Seeker) -> int:
    """Every provider, every time: the same hard constraints without the area index."""
    return sum(
        1
        for provider in directory.providers
        if eligible(provider, seeker)
        and any(area.level.value == "national" or area.province == seeker.province for area in provider.areas)
    )


def timed(function: Any, items: list[Seeker]) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        function(item)
        samples.append(time.perf_counter() - started)
    return samples


def percentiles(samples: list[float]) -> dict[str, float]:
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": cut[49] * 1000, "p99_ms": cut[98] * 1000}


async def import_rate(package_path: Path, records: int) -> dict[str, float]:
    server = None
    base = os.environ.get("DATABASE_URL")
    if base is None:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="lantern-bench-pg-")) / "data").start()
        base = server.url("postgres")
    name = f"lantern_bench_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(base, name)
    try:
        await apply_shared_migrations(url)
        await apply_migrations(url, SPEC.name, service_migrations(SPEC.migrations))
        started = time.perf_counter()
        report = await import_file(url, package_path, timedelta(days=365))
        seconds = time.perf_counter() - started
        assert not report.errors, report.errors[:3]
        return {"records": records, "seconds": seconds, "records_per_second": records / seconds}
    finally:
        await drop_database(base, name)
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--seekers", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/matching.json"))
    options = parser.parse_args()
    rng = random.Random(20261122)
    package = synthetic_package(options.providers, rng)
    tables = hsds.merge(
        hsds.profile_taxonomy(), hsds.flatten(package["organizations"], "organization", "bench")
    )
    profiled = hsds.providers(tables, hsds.Confirmations())
    directory = Directory.of(p.provider for p in profiled if p.provider is not None)
    people = seekers(options.seekers, rng)
    timed(lambda seeker: match_seeker(seeker, directory), people[:200])  # warm-up
    indexed = percentiles(timed(lambda seeker: match_seeker(seeker, directory), people))
    baseline = percentiles(timed(lambda seeker: naive(directory, seeker), people))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "directory.json"
        path.write_text(json.dumps(package), encoding="utf-8")
        imported = asyncio.run(import_rate(path, options.providers))
    results = {
        "providers": options.providers, "seekers": options.seekers, "matching": indexed,
        "naive_scan_baseline": baseline, "ratio_p99_matching_to_naive": indexed["p99_ms"] / baseline["p99_ms"],
        "import": imported, "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "provinces": len(Province),
    }  # fmt: skip
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"matching with {options.providers} providers: p50 {indexed['p50_ms']:.2f} ms, p99 {indexed['p99_ms']:.2f} ms"
    )
    print(
        f"naive scan of the same constraints: p50 {baseline['p50_ms']:.2f} ms, p99 {baseline['p99_ms']:.2f} ms"
    )
    print(f"ratio, p99 matching/naive scan: {results['ratio_p99_matching_to_naive']:.2f}")
    print(
        f"import: {imported['records']} records in {imported['seconds']:.1f} s = {imported['records_per_second']:.0f} records/s"
    )
    print(f"written to {options.out}")


if __name__ == "__main__":
    main()
