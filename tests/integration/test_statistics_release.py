"""The quarterly release from operations monitoring's read model: every tip but a recorded no, nothing small."""

import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from schemas import topics
from services.common.settings import ServiceSettings
from services.monitoring.app import build_app as build_monitoring
from tests.factories import IDENTIFYING_VALUES, tip_received
from tests.helpers import eventually, fetch, running, settled
from tests.keys import signed_headers

PROVINCES = {"ON": 70, "QC": 55, "BC": 30, "NS": 3, "YT": 2}


async def test_a_release_counts_every_tip_but_a_recorded_no_and_publishes_no_cell_under_twenty(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    rng = random.Random(7)
    events = []
    for province, count in PROVINCES.items():
        for _ in range(count):
            tip = tip_received(
                location={"country": "CA", "province": province, "city": None},
                consent={"statistics": rng.choice([True, None, None, None, False]), "service_referral": True},
                assessment={
                    "trafficking_types": [rng.choice(["sex", "labour", "labour", "sex", "organ_removal"])]
                },
            )
            received = datetime(2026, rng.choice([7, 8, 9]), rng.randint(1, 28), 12, tzinfo=UTC)
            events.append(tip.model_copy(update={"received_at": received}))
    counted = sum(1 for event in events if event.facts.consent.statistics is not False)
    assert counted < len(events), "some reporters said no"
    monitoring = build_monitoring(settings)
    async with running(monitoring):
        await settled(monitoring)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            for event in events:
                payload = event.model_dump_json().encode()
                await producer.send(
                    topics.TIPS_RECEIVED, payload, key=event.partition_key,
                    headers=signed_headers(topics.TIPS_RECEIVED, event.partition_key, payload),
                )  # fmt: skip
            await producer.flush()
        finally:
            await producer.stop()

        async def all_recorded() -> bool:
            rows = await fetch(settings, "SELECT count(*) AS n FROM monitoring.tips")
            return bool(rows[0]["n"] == len(events))

        assert await eventually(all_recorded, timeout=90)
    result = subprocess.run(
        [sys.executable, "-m", "lantern", "stats", "release", "--period", "2026-Q3", "--out", str(tmp_path)],
        env={**os.environ, "DATABASE_URL": settings.database_url}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{counted} tips counted" in result.stderr
    release = tmp_path / "2026-Q3"
    names = {path.name for path in release.iterdir()}
    assert {"release-2026-Q3.json", "province-2026-Q3.fr.csv", "channel-2026-Q3.en.svg",
            "channel-2026-Q3.fr.svg", "suppression-report-2026-Q3.txt"} <= names  # fmt: skip
    french_chart = (release / "province-2026-Q3.fr.svg").read_text(encoding="utf-8")
    for words in ("Province ou territoire", "Signalements", "juillet 2026", "Québec"):
        assert words in french_chart, "the French chart titles its axes and names its legend"
    assert "<script" not in french_chart
    assert re.findall(r'(?:href|src)="(?!#)', french_chart) == [], "a chart refers to nothing outside it"
    document = json.loads((release / "release-2026-Q3.json").read_text(encoding="utf-8"))
    province = document["tables"]["province"]
    rows = {row["code"]: row for row in province["rows"]}
    assert set(rows) == {"ON", "QC", "BC", "other"}, "the rare provinces are grouped"
    assert rows["QC"]["fr"] == "Québec"
    published = [value for table in document["tables"].values() for row in table["rows"]
                 for value in (*row["counts"], row["total"])]  # fmt: skip
    assert all(value is None or (value >= 20 and value % 5 == 0) for value in published)
    assert any(value is None for value in published), "small cells were suppressed"
    everything = "\n".join(path.read_text(encoding="utf-8") for path in release.iterdir())
    assert not any(value in everything for value in IDENTIFYING_VALUES)
    assert "Joliette" not in everything


def test_a_period_that_is_not_a_quarter_is_refused_with_the_rule() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lantern", "stats", "release", "--period", "2026-09"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "period: use YYYY-Qn" in result.stderr
