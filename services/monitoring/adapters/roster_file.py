"""The on-call roster file, read again whenever an operator changes it.

Shifts change every week; a change must not need a restart of monitoring (a restart is a window in
which no alert is raised). A file that no longer validates is refused and the last good roster
stays in force, with a warning: a typo in a shift must never leave a breach without anyone paged.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from services.common.logging import get_logger
from services.monitoring.domain.roster import Roster, load_roster

log = get_logger(__name__)


class RosterFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stamp_of_file()
        self._roster = load_roster(path)  # a roster that does not validate stops the start here

    def __call__(self) -> Roster:
        """The roster in force: the file as it is now, or the last good one if it does not validate."""
        try:
            stamp = self._stamp_of_file()
        except OSError as error:
            log.warning(
                "on-call roster unreadable, keeping the last good one", error_type=type(error).__name__
            )
            return self._roster
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._roster = load_roster(self.path)
            except (OSError, ValidationError, ValueError) as error:
                log.warning(
                    "on-call roster changed but does not validate, keeping the last good one",
                    error_type=type(error).__name__,
                )
            else:
                log.info("on-call roster reloaded")
        return self._roster

    def _stamp_of_file(self) -> tuple[int, int, int]:
        status = os.stat(self.path)
        return status.st_mtime_ns, status.st_size, status.st_ino
