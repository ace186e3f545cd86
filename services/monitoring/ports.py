"""What monitoring's use cases need to tell people about an alert.

Adapters (``adapters.alerts``): the console's list of open alerts and the paging outbox, which the
webhook dispatcher (``adapters.webhook``) sends from once the transaction has committed.
"""

from __future__ import annotations

from typing import Protocol

from services.monitoring.domain.alerts import Alert


class Notifier(Protocol):
    async def notify(self, alert: Alert) -> None:
        """Make ``alert`` reach people; notifying of the same alert again changes nothing."""
