"""Monitoring's operator commands (the public statistics release): what `lantern` may use of this
service besides its app."""

from services.monitoring.adapters.charts import Chart, bar_chart
from services.monitoring.adapters.repository import countable_tips
from services.monitoring.domain.bulletin import PeriodError, Quarter, TipFact, as_document, tables
from services.monitoring.domain.statistics import THRESHOLD

__all__ = [
    "THRESHOLD",
    "Chart",
    "PeriodError",
    "Quarter",
    "TipFact",
    "as_document",
    "bar_chart",
    "countable_tips",
    "tables",
]
