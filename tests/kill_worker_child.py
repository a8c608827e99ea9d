"""A worker process for tests/test_kill_worker.py to kill with SIGKILL.

Run as ``python kill_worker_child.py STORE_URL INBOX_ID LEDGER MODE``: it
claims the inbox row with a 2 s lease and runs a chain whose plugin makes
one external write (a line appended to LEDGER, fsynced: the "outside
world" both processes see) through ``context.effect``, then blocks forever:

- MODE ``after``: after the effect is recorded done;
- MODE ``during``: inside the write, after it reached the outside world but
  before its result was recorded (the effect row stays ``attempting``).

The test imports this module too, for the same plugin in non-blocking form.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from types import SimpleNamespace

from bling.routing.chains import Chain
from bling.hookspecs import hookimpl
from bling.ops.metrics import Metrics
from bling.routing.plugin_loader import chain_manager
from bling.routing.routes import Route

PATH = "/bling/kill_test"
EFFECT = "send"
LEASE_SECONDS = 2.0


def block_forever() -> None:
    """Wait for a file that never appears (until SIGKILL)."""
    never = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".never-appears-%d" % os.getpid())
    while not os.path.exists(never):
        time.sleep(0.05)


def ledger_lines(ledger: str) -> list[list[str]]:
    """The external writes so far: [inbox_id, key, pid] per line."""
    if not os.path.exists(ledger):
        return []
    with open(ledger) as handle:
        return [line.split() for line in handle if line.strip()]


class LedgerWrite:
    """Append one line per event to the ledger, exactly once, via context.effect."""

    def __init__(self, ledger: str, mode: str = "none"):
        self.ledger, self.mode = ledger, mode
        self.find_calls: list[float] = []

    @hookimpl
    def handle_event(self, context, event):
        def do():
            line = f"{context.inbox_id} {event['key']} {os.getpid()}\n"
            with open(self.ledger, "a") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            if self.mode == "during":
                block_forever()
            return {"written_by": os.getpid(), "attempt": context.attempt}

        def find(since: float):
            self.find_calls.append(since)
            for inbox_id, key, pid in ledger_lines(self.ledger):
                if int(inbox_id) == context.inbox_id:
                    return {"written_by": int(pid), "found": True}
            return None

        context.state[EFFECT] = context.effect(EFFECT, do, find)
        if self.mode == "after":
            block_forever()


class NoMailboxSchema:
    def locate(self, event, settings):
        return None


def make_services(store, plugin):
    route = Route(name="kill-test", path=PATH, verify="none", schema="none", chain=("ledger",),
                  respond="no_content")
    chain = Chain(route, None, NoMailboxSchema(), chain_manager([("ledger", plugin)]))
    return SimpleNamespace(settings=SimpleNamespace(), store=store, chains_by_path={PATH: chain},
                           metrics=Metrics(), plugin_manager=None)


def main(argv: list[str]) -> int:
    from bling.jobs import worker
    from bling.store.core import Store

    store_url, inbox_id, ledger, mode = argv[1], int(argv[2]), argv[3], argv[4]
    logging.basicConfig(level=logging.INFO)
    worker.LEASE_SECONDS = LEASE_SECONDS  # short, so the parent need not wait 2 minutes
    store = Store(store_url)
    outcome = worker.process(make_services(store, LedgerWrite(ledger, mode)), inbox_id, owner="child")
    print(outcome, flush=True)  # only reached when the row could not be claimed
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
