"""The kill -9 proof, on SQLite and on the real PostgreSQL.

A child process claims a job and makes its external write through
``context.effect``, then hangs; the test SIGKILLs it, lets its (2 s) lease
lapse and drains in-process with the same chain, not hanging. The end
state: the job (and the same supporter's next job, queued behind it) done,
the write made exactly once overall, nothing lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bling.jobs import worker
from bling.store.core import Store

import kill_worker_child as child_mod
from kill_worker_child import EFFECT, PATH, LedgerWrite, ledger_lines, make_services

SUPPORTER = "+16175550123"


def wait_for(predicate, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"child exited ({proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode, effect_state", [("after", "done"), ("during", "attempting")])
def test_worker_killed_mid_job_loses_nothing_and_writes_once(store_url, tmp_path, mode, effect_state):
    ledger = str(tmp_path / "ledger.txt")
    store = Store(store_url)
    try:
        first, _ = store.accept("SM-first", PATH, SUPPORTER, {"key": "SM-first"})
        second, _ = store.accept("SM-second", PATH, SUPPORTER, {"key": "SM-second"})

        proc = subprocess.Popen(
            [sys.executable, child_mod.__file__, store_url, str(first), ledger, mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def effect_reached():
                found = store.effect(first, EFFECT)
                return found if found and found["state"] == effect_state and ledger_lines(ledger) else None

            recorded = wait_for(effect_reached, 15, f"the child's effect to be {effect_state}", proc)
            row = store.get(first)
            assert row["lease_owner"] == "child" and row["attempts"] == 1
            assert ledger_lines(ledger) == [[str(first), "SM-first", str(proc.pid)]]

            plugin = LedgerWrite(ledger)
            services = make_services(store, plugin)
            if row["lease_until"] > time.time() + 0.5:  # (a badly overloaded machine could take longer)
                # while the child holds the job, nobody else may run it or the supporter's next one
                assert worker.process(services, first, owner="parent") == "skipped"
                assert worker.process(services, second, owner="parent") == "skipped"

            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()

        # the killed worker left the row pending and leased; the lease lapses
        row = store.get(first)
        assert row["state"] == "pending" and row["lease_owner"] == "child"
        wait_for(lambda: first in store.due(), 5, "the child's lease to lapse")

        totals = worker.drain(services)
        assert totals.get("done") == 2

        first_row, second_row = store.get(first), store.get(second)
        assert first_row["state"] == "done" and first_row["attempts"] == 2
        assert first_row["lease_owner"] != "child"
        assert second_row["state"] == "done" and second_row["attempts"] == 1
        assert store.counts() == {"done": 2}

        # the external write happened exactly once per event; the first by the dead child
        lines = ledger_lines(ledger)
        assert lines == [[str(first), "SM-first", str(proc.pid)],
                         [str(second), "SM-second", str(os.getpid())]]
        effect = store.effect(first, EFFECT)
        assert effect["state"] == "done"
        assert effect["started_at"] == recorded["started_at"]
        if mode == "after":
            # recorded done before the kill: reused as is, nothing looked up
            assert effect["result"] == {"written_by": proc.pid, "attempt": 1}
            assert plugin.find_calls == []
        else:
            # outcome unknown at the kill: looked up since the attempt began, found, not redone
            assert effect["result"] == {"written_by": proc.pid, "found": True}
            assert plugin.find_calls == [recorded["started_at"]]
        assert store.effect(second, EFFECT)["result"] == {"written_by": os.getpid(), "attempt": 1}

        # a late write by the dead owner changes nothing
        store.retry(first, "child", "late", 0, {})
        assert store.get(first)["state"] == "done"
    finally:
        store.close()
