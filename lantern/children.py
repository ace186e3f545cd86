"""Children that do not outlive the process that started them (`lantern up`), even when it is killed
with SIGKILL and can clean up nothing.

On Linux the child asks the kernel, before it runs its program, for a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``). The kernel sends it when the *thread* that forked the child ends, not
the process: children are started from the main thread only. Elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def dies_with_this_process(signum: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets ``signum`` when this process dies.

    The setting survives the child's ``exec`` (of a program that is not set-user-ID) and is cleared by
    a change of user, which ``Popen(user=...)`` makes before ``preexec_fn`` runs.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("a child that dies with its parent must be started from the main thread")
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arrange() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # The parent may have died between the fork and the prctl: no signal would ever come.
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)

    return arrange
