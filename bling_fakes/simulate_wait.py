"""After ``bling simulate`` sends an event: wait for Bling's job and say how it really ended.

Bling answers a webhook as soon as the event is stored, so "Bling answered
200" says nothing about the outcome. The store knows: the event's inbox row
(found by its idempotency key) ends ``done`` or ``dead``; a ``pending`` one
is waiting for a retry. This reads only the row, whatever runs the queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass


@dataclass
class Outcome:
    state: str  # done | dead | pending | missing
    lines: list[str]

    @property
    def failed(self) -> bool:
        return self.state in ("dead", "missing")


def wait_for_job(store, key: str, timeout: float, interval: float = 0.25) -> Outcome:
    """Poll the inbox row stored under ``key`` until it is done or dead, or ``timeout`` seconds pass."""
    return wait_for_jobs(store, [key], timeout, interval)[0]


def wait_for_jobs(store, keys: list[str], timeout: float, interval: float = 0.25) -> list[Outcome]:
    """Like ``wait_for_job`` for several keys at once (the events of one call)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [store.find_key(key) for key in keys]
        if all(row is not None and row["state"] in ("done", "dead") for row in rows) or time.monotonic() >= deadline:
            return [describe(row, key, timeout) for row, key in zip(rows, keys)]
        time.sleep(interval)


def describe(row: dict | None, key: str, waited: float) -> Outcome:
    if row is None:
        return Outcome("missing", [f"Bling stored no job for {key} (it ignored the request: see its answer above)"])
    ident = f"job {row['id']} ({row['route']})"
    if row["state"] == "done":
        result = {k: v for k, v in (row.get("result") or {}).items() if not k.startswith("_")}
        shown = json.dumps(result, default=str)[:300] if result else "no details"
        return Outcome("done", [f"{ident}: done after {row['attempts']} attempt(s): {shown}"])
    if row["state"] == "dead":
        return Outcome("dead", [f"{ident}: DEAD LETTER after {row['attempts']} attempt(s): {row['last_error']}",
                                f"  see `bling jobs show {row['id']}`; fix the cause, then `bling jobs replay {row['id']}`"])
    error = f"; last error: {row['last_error']}" if row.get("last_error") else ""
    return Outcome("pending", [f"{ident}: still waiting after {waited:g}s ({row['attempts']} attempt(s){error}); "
                               f"is a worker running? `bling jobs show {row['id']}` tells more later"])
