"""What `lantern` may call in the referral service: the directory's import, export and confirmations."""

from services.referral.adapters.directory import ImportReport, confirm_in, export, import_file

__all__ = ["ImportReport", "confirm_in", "export", "import_file"]
