"""Waiting for Help Scout's shared budget in place, inside a worker.

A job in the ``helpscout`` lane was handed out because it is the oldest
waiting one; when the budget is spent it keeps its turn and its worker
thread sleeps until the next window, instead of being put back and
claimed again (which wasted a claim per job per window and shuffled the
order). Anywhere else — a web request, a ``fast`` lane job, a test
draining the queue — nothing may wait, and the budget raises
``HelpScoutRateLimited`` as before.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Callable, Iterator

#: Sleeps up to the given seconds; False means "stop waiting" (the worker is shutting down).
Waiter = Callable[[float], bool]

_waiter: ContextVar[Waiter | None] = ContextVar("bling_budget_waiter", default=None)


@contextlib.contextmanager
def waiting_allowed(waiter: Waiter) -> Iterator[None]:
    """Within this block, a spent budget waits through ``waiter`` instead of raising."""
    token = _waiter.set(waiter)
    try:
        yield
    finally:
        _waiter.reset(token)


def wait(seconds: float) -> bool:
    """Wait ``seconds`` if this job may; True means "ask the budget again"."""
    waiter = _waiter.get()
    return waiter is not None and waiter(seconds)
