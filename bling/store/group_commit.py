"""Group commit: requests that arrive together share one transaction and one fsync.

A 2xx to Twilio is a promise, so each accepted event must be on disk before
its answer (SQLite: ``synchronous=FULL``). One fsync per request caps a
process at a few hundred answers a second whatever the CPU could do. Here
requests hand their event to one writer, which waits ``GATHER_SECONDS`` so
the requests already being served can join, then writes the whole batch in
one transaction and wakes each request with its result. Nobody is answered
before the batch holding its event is durable; under light load a batch is
one event and nothing changes.

The primitives are ``threading``'s: real threads in a threaded server, and
greenlets under gunicorn's gevent worker (which patches them).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Generic, TypeVar

#: How long the writer lets a batch gather. Yielding once (the former ``sleep(0)``) let only the requests a
#: gevent process was already running join; half a millisecond also lets its loop read the requests that
#: just arrived, so one fsync serves more of them: 0.54x -> 0.63x the floor's answers a second (bench/run.py,
#: side by side on one machine), for at most 0.5 ms more per answer.
GATHER_SECONDS = 0.0005

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiter(Generic[Item]):
    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: Item):
        self.item, self.done = item, threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Run ``write_batch(items) -> results`` for concurrent ``submit`` calls, a batch at a time.

    One writer (a thread, or a greenlet under gevent), started on first use
    in the process that uses it, writes every batch; callers only wait. A
    caller that gives up waiting (its connection's deadline) leaves nothing
    stuck behind it. A result that is an exception is raised to that item's
    caller alone.
    """

    def __init__(self, write_batch: Callable[[list[Item]], list[Result]], max_batch: int = 256):
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Waiter] = []
        self._writer: threading.Thread | None = None

    def submit(self, item: Item) -> Result:
        """Return ``item``'s result once the batch holding it is written (or raise its error)."""
        waiter = _Waiter(item)
        with self._cond:
            self._pending.append(waiter)
            if self._writer is None or not self._writer.is_alive():  # first use, or a forked child
                self._writer = threading.Thread(target=self._run, name="bling-group-commit", daemon=True)
                self._writer.start()
            self._cond.notify()
        waiter.done.wait()
        return _outcome(waiter)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
            time.sleep(GATHER_SECONDS)  # let requests being served, and those just arrived, join this batch
            with self._cond:
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
            self._write(batch)

    def _write(self, batch: list[_Waiter]) -> None:
        try:
            results = self._write_batch([w.item for w in batch])
        except Exception as ex:  # every waiter of the batch learns it failed
            for w in batch:
                w.error = ex
        else:
            for w, result in zip(batch, results):
                w.result = result
        for w in batch:
            w.done.set()


def _outcome(waiter: _Waiter):
    if waiter.error is not None:
        raise waiter.error
    if isinstance(waiter.result, BaseException):
        raise waiter.result
    return waiter.result
