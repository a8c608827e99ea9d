"""The job engine of ``bling worker``: lanes of threads that claim inbox rows.

The inbox is the queue (bling/store/core.py). Each worker process runs:

- ``helpscout`` lane threads (``--threads``, default 2): each claims the
  oldest claimable row of the lane and runs it; when Help Scout's shared
  budget is spent the job waits for the next window *in place*, keeping
  its turn (bling/jobs/pacing.py). So texts reach Help Scout in the order they
  were accepted, the budget is used to its share and no claim is wasted.
- ``fast`` lane threads (``--fast-threads``, default 1) for work that starts
  without Help Scout (texting an agent's reply): never behind the backlog.
  If such a job then needs the budget (the reply's note) it moves to the
  ``helpscout`` lane and waits its turn there.
- a housekeeping thread: renews the leases of the jobs this process runs
  (a killed process's leases lapse after ``LEASE_SECONDS`` and any worker
  claims those rows again) and records the heartbeat /healthz reads;
- a periodic thread: runs the periodic tasks, each by one process only
  (store.take_periodic), apart from lease renewal so a slow one never lets
  a lease lapse.
- on PostgreSQL, a LISTEN connection: an accepted event wakes idle
  threads at once. SQLite has no notifications; idle threads look again
  every ``poll`` seconds (0.5 by default: a cheap indexed read).
"""

from __future__ import annotations

import logging
import select
import signal
import threading
import time

from bling.ops.health import record_worker_heartbeat
from bling.store.core import NOTIFY_CHANNEL
from bling.jobs.periodic import PeriodicTask, declared_tasks
from bling.jobs.worker import LEASE_SECONDS, process_next, worker_id

log = logging.getLogger("bling.engine")

#: Renew the leases of running jobs this often (well inside the lease).
RENEW_EVERY = LEASE_SECONDS / 4
#: Record that a worker is alive (for /healthz) this often.
HEARTBEAT_EVERY = 30.0


class Doorbell:
    """Wakes idle lane threads: new work was accepted, or a job ended (its supporter's next may go)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rung = 0

    def ring(self) -> None:
        with self._cond:
            self._rung += 1
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        with self._cond:
            seen = self._rung
            self._cond.wait_for(lambda: self._rung != seen, timeout)


class Engine:
    """Run jobs until stopped (SIGTERM/SIGINT): jobs in flight finish or keep their turn."""

    def __init__(self, services, threads: int = 2, fast_threads: int = 1, poll: float = 0.5,
                 periodic: list[PeriodicTask] | None = None):
        self.services = services
        self.threads, self.fast_threads, self.poll = threads, fast_threads, poll
        self.lease = LEASE_SECONDS
        self.periodic = declared_tasks(services.plugin_manager) if periodic is None else periodic
        self.stopping = threading.Event()
        self.sleep = lambda seconds: not self.stopping.wait(seconds)  # False: stopping (tests move a fake clock)
        self.doorbell = Doorbell()
        self._running: dict[str, int] = {}  # owner → inbox id it runs now (leases to renew)
        self._lock = threading.Lock()

    # -- running -----------------------------------------------------------

    def run(self) -> None:
        """Serve until stopped; install signal handlers when on the main thread."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        threads = self.start()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
        log.info("bling worker stopped")

    def start(self) -> list[threading.Thread]:
        """Start every thread (daemons) and return them."""
        specs = [(f"lane-helpscout-{i}", self._lane, ("helpscout",)) for i in range(self.threads)]
        specs += [(f"lane-fast-{i}", self._lane, ("fast",)) for i in range(self.fast_threads)]
        specs.append(("housekeeping", self._housekeeping, ()))
        specs.append(("periodic", self._periodic_loop, ()))
        if self.services.store.is_postgres:
            specs.append(("listen", self._listen, ()))
        threads = [threading.Thread(target=target, args=args, name=name, daemon=True) for name, target, args in specs]
        for thread in threads:
            thread.start()
        log.info("bling worker started: %d helpscout and %d fast lane thread(s), store %s", self.threads,
                 self.fast_threads, "PostgreSQL (LISTEN/NOTIFY)" if self.services.store.is_postgres else "SQLite")
        return threads

    def stop(self) -> None:
        self.stopping.set()
        self.doorbell.ring()

    # -- lanes -------------------------------------------------------------

    def _lane(self, lane: str) -> None:
        owner = worker_id()
        waiting = (lambda seconds: self._wait_for_budget(owner, seconds)) if lane == "helpscout" else None
        while not self.stopping.is_set():
            try:
                outcome = process_next(self.services, lane, owner, waiting=waiting, on_claim=self._claimed,
                                       lease=self.lease)
            except Exception:  # the store is down or a bug: log, breathe, go on
                log.exception("the %s lane could not claim a job", lane)
                outcome = None
                self.stopping.wait(5.0)
            finally:
                with self._lock:
                    self._running.pop(owner, None)
            if outcome is None:
                self.doorbell.wait(self.poll)
            else:
                self.doorbell.ring()  # its supporter's next event, or a job moved to another lane

    def _claimed(self, owner: str, inbox_id: int) -> None:
        with self._lock:
            self._running[owner] = inbox_id

    def _wait_for_budget(self, owner: str, seconds: float) -> bool:
        """Sleep until the budget's next window, keeping the job's lease for as long; False when stopping."""
        with self._lock:
            inbox_id = self._running.get(owner)
        if inbox_id is not None:
            self.services.store.renew(owner, [inbox_id], self.lease + seconds)
        return self.sleep(max(0.05, seconds))

    # -- housekeeping --------------------------------------------------------

    def _housekeeping(self) -> None:
        last_renew = last_beat = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            try:
                if now - last_renew >= RENEW_EVERY:
                    self._renew_leases()
                    last_renew = now
                if now - last_beat >= HEARTBEAT_EVERY:
                    record_worker_heartbeat(self.services.store)
                    last_beat = now
            except Exception:
                log.exception("worker housekeeping failed; trying again shortly")
            self.stopping.wait(1.0)

    def _periodic_loop(self) -> None:
        """Periodic tasks in a thread of their own: a long reconciliation never delays lease renewal."""
        while not self.stopping.is_set():
            try:
                self._run_periodic()
            except Exception:
                log.exception("periodic tasks could not be checked; trying again shortly")
            self.stopping.wait(5.0)

    def _renew_leases(self) -> None:
        with self._lock:
            running = dict(self._running)
        for owner, inbox_id in running.items():
            self.services.store.renew(owner, [inbox_id], self.lease)

    def _run_periodic(self) -> None:
        for task in self.periodic:
            if self.stopping.is_set() or not self.services.store.take_periodic(task.name, task.every):
                continue
            try:
                outcome = task.run(self.services)
                log.info("periodic task %s: %s", task.name, outcome)
            except Exception:
                log.exception("periodic task %s failed; it runs again in %.0fs", task.name, task.every)

    # -- PostgreSQL notifications -------------------------------------------

    def _listen(self) -> None:
        """LISTEN on the inbox channel and ring the doorbell on each notification."""
        while not self.stopping.is_set():
            try:
                raw = self.services.store.engine.raw_connection()
                try:
                    connection = raw.driver_connection
                    connection.autocommit = True
                    with connection.cursor() as cursor:
                        cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self.stopping.is_set():
                        if select.select([connection], [], [], 1.0)[0]:
                            connection.poll()
                            if connection.notifies:
                                connection.notifies.clear()
                                self.doorbell.ring()
                finally:
                    raw.invalidate()  # a LISTENing connection must not go back to the pool
            except Exception:
                log.warning("LISTEN connection lost; idle workers poll every %.1fs meanwhile", self.poll, exc_info=True)
                self.stopping.wait(5.0)
