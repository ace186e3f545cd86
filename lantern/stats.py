"""`lantern stats release`: write a quarter's public statistics as JSON, CSV (English and French),
SVG charts and a suppression report, from operations monitoring's read model.
"""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path
from typing import Any

from services.common.db import connect
from services.monitoring.commands import THRESHOLD, Quarter, TipFact, as_document, countable_tips, tables

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
        chart = out / f"{name}-{quarter.label}.svg"
        chart.write_text(_chart(table), encoding="utf-8")
        written.append(chart)
    report = out / f"suppression-report-{quarter.label}.txt"
    report.write_text(_report(document), encoding="utf-8")
    written.append(report)
    return written


def _cell(value: int | None, language: str) -> str:
    return SUPPRESSED[language] if value is None else str(value)


def _chart(table: dict[str, Any]) -> str:
    """Grouped bars, one group per category, one bar per month; a suppressed count is drawn as 'x'."""
    width, bar, gap, height = 900, 14, 26, 260
    values = [v for row in table["rows"] for v in row["counts"] if v is not None]
    top = max(values, default=1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 120}" font-family="sans-serif" font-size="11">',
        f'<text x="10" y="18" font-size="14">{escape(table["title"]["en"])} / {escape(table["title"]["fr"])}</text>',
    ]
    shades = ("#1f5f8b", "#4b8bbe", "#9cc3e4")
    x = 40
    for row in table["rows"]:
        for index, value in enumerate(row["counts"]):
            left = x + index * bar
            if value is None:
                parts.append(f'<text x="{left + 3}" y="{height + 30}">x</text>')
                continue
            tall = int(height * value / top)
            parts.append(
                f'<rect x="{left}" y="{height + 40 - tall}" width="{bar - 2}" height="{tall}" fill="{shades[index % 3]}"/>'
            )
        parts.append(
            f'<text x="{x}" y="{height + 56}" transform="rotate(30 {x} {height + 56})">{escape(row["en"])} / {escape(row["fr"])}</text>'
        )
        x += bar * len(row["counts"]) + gap
    legend = " · ".join(f"{m['en']} / {m['fr']}" for m in table["months"])
    parts.append(f'<text x="10" y="36">{escape(legend)} (x: suppressed / supprimé)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


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
