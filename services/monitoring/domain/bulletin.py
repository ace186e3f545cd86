"""A quarterly public release: counts by province or territory, trafficking type and channel, by month,
of every tip except those whose reporters said no to statistical use (a tip whose reporter was not
asked counts), made safe by ``statistics.release``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.monitoring.domain.statistics import OTHER, PublishedTable, release

PERIOD = re.compile(r"^(?P<year>20\d\d)-Q(?P<quarter>[1-4])$")
LABELS: dict[str, tuple[str, str]] = {
    "AB": ("Alberta", "Alberta"), "BC": ("British Columbia", "Colombie-Britannique"), "MB": ("Manitoba", "Manitoba"),
    "NB": ("New Brunswick", "Nouveau-Brunswick"), "NL": ("Newfoundland and Labrador", "Terre-Neuve-et-Labrador"),
    "NS": ("Nova Scotia", "Nouvelle-Écosse"), "NT": ("Northwest Territories", "Territoires du Nord-Ouest"),
    "NU": ("Nunavut", "Nunavut"), "ON": ("Ontario", "Ontario"), "PE": ("Prince Edward Island", "Île-du-Prince-Édouard"),
    "QC": ("Quebec", "Québec"), "SK": ("Saskatchewan", "Saskatchewan"), "YT": ("Yukon", "Yukon"),
    "outside_canada": ("Outside Canada", "Hors du Canada"), "unknown": ("Not stated", "Non précisé"),
    "sex": ("Sex trafficking", "Traite à des fins sexuelles"), "labour": ("Labour trafficking", "Traite à des fins de travail"),
    "domestic_servitude": ("Domestic servitude", "Servitude domestique"),
    "organ_removal": ("Organ removal", "Prélèvement d'organes"), "forced_marriage": ("Forced marriage", "Mariage forcé"),
    "unspecified": ("Type not stated", "Type non précisé"),
    "web": ("Online form", "Formulaire en ligne"), "phone": ("Phone", "Téléphone"), "email": ("Email", "Courriel"),
    "chat": ("Chat", "Clavardage"), OTHER: ("Other (grouped)", "Autres (regroupés)"),
}  # fmt: skip
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")  # fmt: skip
DIMENSIONS = {
    "province": ("Province or territory", "Province ou territoire"),
    "trafficking_type": ("Type of trafficking", "Type de traite"),
    "channel": ("Channel", "Canal"),
}


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Quarter:
    label: str
    start: datetime
    end: datetime
    months: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Quarter:
        found = PERIOD.match(text.strip())
        if not found:
            raise PeriodError("period: use YYYY-Qn, for example 2026-Q3")
        year, quarter = int(found["year"]), int(found["quarter"])
        first = 3 * (quarter - 1) + 1
        end = (
            datetime(year + 1, 1, 1, tzinfo=UTC) if quarter == 4 else datetime(year, first + 3, 1, tzinfo=UTC)
        )
        return cls(text.strip(), datetime(year, first, 1, tzinfo=UTC), end,
                   tuple(f"{year}-{month:02d}" for month in range(first, first + 3)))  # fmt: skip


@dataclass(frozen=True, slots=True)
class TipFact:
    received_at: datetime
    channel: str
    province: str | None
    outside_canada: bool
    trafficking_types: tuple[str, ...]


def tables(quarter: Quarter, tips: Iterable[TipFact]) -> dict[str, PublishedTable]:
    """The release's three tables, each a category by month, made safe to publish."""
    counts: dict[str, Counter[tuple[str, str]]] = {dimension: Counter() for dimension in DIMENSIONS}
    for tip in tips:
        month = tip.received_at.astimezone(UTC).strftime("%Y-%m")
        place = "outside_canada" if tip.outside_canada else (tip.province or "unknown")
        counts["province"][(place, month)] += 1
        counts["channel"][(tip.channel, month)] += 1
        for kind in tip.trafficking_types or ("unspecified",):
            counts["trafficking_type"][(kind, month)] += 1
    return {
        dimension: release(dict(counted), sorted({row for row, _ in counted}), list(quarter.months))
        for dimension, counted in counts.items()
    }


def label(code: str, french: bool) -> str:
    english, francais = LABELS.get(code, (code, code))
    return francais if french else english


def month_label(month: str, french: bool) -> str:
    year, number = month.split("-")
    if french:
        return f"{MONTHS_FR[int(number) - 1]} {year}"
    return datetime(int(year), int(number), 1).strftime("%B %Y")


def as_document(quarter: Quarter, published: dict[str, PublishedTable], threshold: int) -> dict[str, Any]:
    """The release as JSON: both languages, suppressed cells as null, and the suppression report."""
    document: dict[str, Any] = {
        "period": quarter.label,
        "method": {
            "en": f"Every tip received, except those whose reporters said no to statistical use. Cells and totals under {threshold} are suppressed, "
            "with complementary suppression so that none can be worked out from the totals; rare categories are "
            "grouped as 'other'; published counts are rounded to base 5, so totals may not add up.",
            "fr": f"Tous les signalements reçus, sauf ceux dont l'auteur a refusé l'usage statistique. Les cellules et totaux inférieurs à "
            f"{threshold} sont supprimés, avec suppression complémentaire pour qu'aucun ne puisse être déduit des "
            "totaux; les catégories rares sont regroupées sous « autres »; les comptes sont arrondis à 5 près.",
        },
        "tables": {},
    }
    for dimension, table in published.items():
        document["tables"][dimension] = {
            "title": {
                "en": f"{DIMENSIONS[dimension][0]} by month",
                "fr": f"{DIMENSIONS[dimension][1]} par mois",
            },
            "months": [
                {"code": m, "en": month_label(m, False), "fr": month_label(m, True)} for m in table.columns
            ],
            "rows": [
                {
                    "code": row,
                    "en": label(row, False),
                    "fr": label(row, True),
                    "counts": [table.cells[(row, month)] for month in table.columns],
                    "total": table.row_totals[row],
                }
                for row in table.rows
            ],
            "monthly_totals": [table.column_totals[month] for month in table.columns],
            "total": table.grand_total,
            "suppression_report": {
                "grouped_as_other": table.grouped_as_other,
                "suppressed_cells": [
                    {"row": cell[0], "month": cell[1], "kind": kind}
                    for cell, kind in ((s.cell, s.kind) for s in table.suppressions)
                ],
                "suppressed_totals": [row for row, value in table.row_totals.items() if value is None]
                + [month for month, value in table.column_totals.items() if value is None]
                + (["grand_total"] if table.grand_total is None else []),
            },
        }
    return document
