"""In-process counters (webhooks by outcome, retries, dead letters, SMS sent)."""

from __future__ import annotations

import threading
from collections import Counter


class Metrics:
    """Thread-safe named counters; /healthz reports them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Counter = Counter()

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
