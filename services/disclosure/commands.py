"""Disclosure's operator commands: what `lantern` may use of this service besides its app."""

from services.disclosure.adapters.audit import verify as verify_audit
from services.disclosure.domain.audit import BrokenLink

__all__ = ["BrokenLink", "verify_audit"]
