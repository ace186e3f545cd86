"""Monitoring's operator commands (the public statistics release): what `lantern` may use of this
service besides its app."""

from services.monitoring.adapters.repository import countable_tips
from services.monitoring.domain.bulletin import PeriodError, Quarter, TipFact, as_document, tables
from services.monitoring.domain.statistics import THRESHOLD

__all__ = ["THRESHOLD", "PeriodError", "Quarter", "TipFact", "as_document", "countable_tips", "tables"]
