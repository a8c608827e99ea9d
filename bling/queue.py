"""Waking workers: huey on the same store as the state.

huey is the job library (retries are scheduled with ``schedule(delay=…)``,
the sweeper is a periodic task). It runs on SQLite (``SqliteHuey``, same
file as the state) and on PostgreSQL (``SqlHuey`` through peewee), so
BLING_STORE_URL picks state and queue together. Task results are not
stored (``results=False``): outcomes live in the inbox. huey deletes a task when a
worker takes it, so the queue is never trusted with the truth: the inbox
row is, and the sweeper re-wakes rows whose lease lapsed.
"""

from __future__ import annotations

import logging

log = logging.getLogger("bling.queue")


class RecordingWaker:
    """Remember wake-ups instead of queueing them (tests; ``drain`` runs them)."""

    def __init__(self):
        self.woken: list[tuple[int, float]] = []

    def wake(self, inbox_id: int, delay: float = 0) -> None:
        self.woken.append((inbox_id, delay))


def make_huey(store_url: str, store=None):
    """Return a huey instance stored beside the state (no Redis needed).

    ``store`` (a bling.store.Store on the same URL) lends its schema lock so
    processes starting together do not race creating huey's tables.
    """
    if store_url.startswith("sqlite"):
        from huey import SqliteHuey

        path = store_url.split("sqlite:///", 1)[1] or "bling.db"
        return SqliteHuey(name="bling", filename=path, fsync=True, results=False)
    from huey.contrib.sql_huey import SqlHuey

    url = store_url.replace("postgresql+psycopg2://", "postgresql://")
    if store is None:
        return SqlHuey(name="bling", database=url, results=False)
    with store.schema_lock():
        return SqlHuey(name="bling", database=url, results=False)


class HueyWaker:
    """Wake a worker for an inbox row through huey."""

    def __init__(self, huey):
        self.huey = huey
        self.services = None  # set by build_services: tasks run with them

        @huey.task(name="bling.process")
        def process_task(inbox_id: int) -> str:
            from .worker import process

            return process(self.services, inbox_id)

        from huey import crontab

        @huey.periodic_task(crontab(minute="*"), name="bling.sweep")
        def sweep_task() -> int:
            from .worker import sweep

            return sweep(self.services)

        @huey.periodic_task(crontab(minute="*/10"), name="bling.reconcile")
        def reconcile_task() -> dict:
            from .reconcile import reconcile

            return reconcile(self.services)

        @huey.periodic_task(crontab(minute="*/5"), name="bling.mobilecommons")
        def mobilecommons_task() -> dict | None:
            from .mobilecommons_loader import scheduled_load

            return scheduled_load(self.services)  # None when no mailbox uses Mobile Commons

        self._process_task = process_task
        self._sweep_task = sweep_task

    def wake(self, inbox_id: int, delay: float = 0) -> None:
        if delay and delay > 0:
            self._process_task.schedule(args=(inbox_id,), delay=delay)
        else:
            self._process_task(inbox_id)
