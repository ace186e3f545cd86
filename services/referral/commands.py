"""Referral's operator commands: what `lantern` may use of this service besides its app."""

from services.referral.adapters.directory import ImportReport, import_file

__all__ = ["ImportReport", "import_file"]
