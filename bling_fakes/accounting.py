"""Help Scout's account-wide rate limit, and the request log the benchmark counts units with.

Help Scout meters ``limit`` units per clock minute for the whole account
(Kong's fixed windows): a GET costs 1, a write 2, and a request that would
go over is answered 429 and not charged. The benchmark turns this on
(``HelpScoutFake(limit_per_minute=…)``) to see how Bling paces itself; the
sandbox leaves it off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def cost_of(method: str) -> int:
    return 2 if method in WRITE_METHODS else 1


@dataclass
class Hit:
    """One request as the fake saw it."""

    at: float
    method: str
    path: str
    status: int
    units: int  # charged against the limit (0 for 429s, 401s and the token endpoint)
    #: The supporters it concerned, when known: a conversation's e-mail, or every
    #: ``phone:"…"``/``email:"…"`` term of a customer search (a batch names several).
    supporters: tuple[str, ...] = ()


class RateLimiter:
    """``limit`` units per clock minute for the whole account (Kong's fixed window)."""

    def __init__(self, limit: int, clock=time.time):
        self.limit, self.clock = limit, clock
        self.window = -1
        self.used = 0

    def charge(self, cost: int) -> tuple[bool, int, float]:
        """Spend ``cost`` if it fits; return (allowed, remaining, seconds to the next window)."""
        now = self.clock()
        window = int(now // 60)
        if window != self.window:
            self.window, self.used = window, 0
        retry_after = (window + 1) * 60 - now
        if self.used + cost > self.limit:
            return False, self.limit - self.used, retry_after
        self.used += cost
        return True, self.limit - self.used, retry_after
