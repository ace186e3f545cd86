"""`lantern stats release`: write a quarter's public statistics as JSON, CSV and SVG charts (English
and French) and a suppression report, from operations monitoring's read model.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from services.common.db import connect
from services.monitoring.commands import (
    THRESHOLD,
    Chart,
    Quarter,
    TipFact,
    as_document,
    bar_chart,
    countable_tips,
    tables,
)

SUPPRESSED = {"en": "x", "fr": "x"}


async def facts_of(database_url: str, quarter: Quarter) -> list[TipFact]:
    connection = await connect(database_url, "monitoring")
    try:
        rows = await countable_tips(connection, quarter.start, quarter.end)
    finally:
        await connection.close()
    return [
        TipFact(
            row["received_at"],
            row["channel"],
            row["province"],
            row["outside_canada"],
            tuple(row["trafficking_types"]),
        )
        for row in rows
    ]


def write_release(quarter: Quarter, facts: list[TipFact], out: Path) -> list[Path]:
    document = as_document(quarter, tables(quarter, facts), THRESHOLD)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"release-{quarter.label}.json"]
    written[0].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, table in document["tables"].items():
        for language in ("en", "fr"):
            path = out / f"{name}-{quarter.label}.{language}.csv"
            with path.open("w", encoding="utf-8", newline="") as file:
                writer = csv.writer(file)
                total = "Total"
                writer.writerow([table["title"][language], *(m[language] for m in table["months"]), total])
                for row in table["rows"]:
                    writer.writerow(
                        [
                            row[language],
                            *(_cell(v, language) for v in row["counts"]),
                            _cell(row["total"], language),
                        ]
                    )
                writer.writerow(
                    [
                        total,
                        *(_cell(v, language) for v in table["monthly_totals"]),
                        _cell(table["total"], language),
                    ]
                )
            written.append(path)
        for language in ("en", "fr"):
            chart = out / f"{name}-{quarter.label}.{language}.svg"
            chart.write_text(_chart(name, table, language), encoding="utf-8")
            written.append(chart)
    report = out / f"suppression-report-{quarter.label}.txt"
    report.write_text(_report(document), encoding="utf-8")
    written.append(report)
    return written


def _cell(value: int | None, language: str) -> str:
    return SUPPRESSED[language] if value is None else str(value)


CHART_WORDS = {
    "en": {"y": "Tips", "gaps": "rounded to 5; a missing bar is a suppressed count"},
    "fr": {"y": "Signalements", "gaps": "arrondis à 5; une barre absente est un compte supprimé"},
}
DIMENSION_TITLES = {
    "province": ("Province or territory", "Province ou territoire"),
    "trafficking_type": ("Type of trafficking", "Type de traite"),
    "channel": ("Channel", "Canal"),
}


def _chart(name: str, table: dict[str, Any], language: str) -> str:
    """Grouped bars in ``language``: one group per category, one bar per month (the legend)."""
    words = CHART_WORDS[language]
    return bar_chart(
        Chart(
            title=f"{table['title'][language]} ({words['gaps']})",
            x_title=DIMENSION_TITLES[name][language == "fr"],
            y_title=words["y"],
            categories=[row[language] for row in table["rows"]],
            series=[
                (month[language], [row["counts"][index] for row in table["rows"]])
                for index, month in enumerate(table["months"])
            ],
        )
    )


def _report(document: dict[str, Any]) -> str:
    lines = [
        f"Suppression report / Rapport de suppression: {document['period']}",
        document["method"]["en"],
        document["method"]["fr"],
        "",
    ]
    for name, table in document["tables"].items():
        report = table["suppression_report"]
        lines.append(f"[{name}]")
        lines.append(f"  grouped as other: {', '.join(report['grouped_as_other']) or '-'}")
        for cell in report["suppressed_cells"]:
            lines.append(f"  suppressed {cell['row']} / {cell['month']}: {cell['kind']}")
        lines.append(f"  suppressed totals: {', '.join(report['suppressed_totals']) or '-'}")
    return "\n".join(lines) + "\n"
