"""The job engine's dispatch rules (bling/jobs/engine.py, store.claim_next, bling/jobs/pacing.py).

Pinned without timing assertions: oldest first within a lane, one job per
supporter at a time, Help Scout's budget respected by every process sharing
a store, an agent's reply never queued behind the budget, a paced job
keeping its turn (no claim spent only to wait again), a dead worker's rows
claimed again, periodic tasks run by one process. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bling.jobs import worker
from bling.routing.chains import Chain
from bling.jobs.engine import Engine, PeriodicTask
from bling.clients.helpscout import HelpScoutRateLimited
from bling.hookspecs import hookimpl
from bling.ops.metrics import Metrics
from bling.routing.plugin_loader import chain_manager
from bling.routing.routes import Route
from bling.services import HELPSCOUT_BUDGET_SHARE, StoreBudget
from bling.store.core import Store

T0 = 1_700_000_000.0
PAID, FAST = "/paid", "/fast"


class SharedClock:
    """One clock for every 'process' of a test; waiting for the budget moves it on."""

    def __init__(self):
        self.now = T0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        with self.lock:
            self.now += seconds
        return True


class Spend:
    """A chain step that spends ``cost`` Help Scout units through the shared budget, like a thread write."""

    def __init__(self, cost: int = 2):
        self.cost, self.seen, self.lock = cost, [], threading.Lock()

    @hookimpl
    def handle_event(self, context, event):
        context.services.budget.acquire(self.cost)
        with self.lock:
            self.seen.append((event["n"], context.store.clock()))


class TextThenNote:
    """An agent reply: the SMS needs no budget (recorded once), the note does."""

    def __init__(self):
        self.texts, self.notes = [], []

    @hookimpl
    def handle_event(self, context, event):
        if not context.state.get("texted"):
            self.texts.append(event["n"])
            context.state["texted"] = True
        context.services.budget.acquire(2)
        self.notes.append(event["n"])


def chain(path: str, plugin, lane: str) -> Chain:
    route = Route(name=path.strip("/"), path=path, verify="none", schema="none", chain=("p",),
                  respond="no_content", lane=lane)
    return Chain(route, None, SimpleNamespace(locate=lambda e, s: None), chain_manager([("p", plugin)]))


def process_services(store_url: str, clock, *chains, limit: int = 10):
    """What one Bling process has: its own Store (connection pool) on the shared URL and a budget."""
    store = Store(store_url, clock=clock)
    store.observe_budget("helpscout", limit, limit, None, limit)  # Help Scout said: `limit` units a minute
    return SimpleNamespace(settings=SimpleNamespace(), store=store, chains_by_path={c.route.path: c for c in chains},
                           metrics=Metrics(), plugin_manager=None, budget=StoreBudget(store))


@pytest.fixture
def clock():
    return SharedClock()


def accept(store, n: int, supporter: str | None = None, path: str = PAID, lane: str = "helpscout") -> int:
    inbox_id, new = store.accept(f"k{n}", path, supporter or f"+1{n:04d}", {"n": n}, lane=lane)
    assert new
    return inbox_id


def test_claim_next_hands_out_the_oldest_row_of_its_lane_first(store_url, clock):
    services = process_services(store_url, clock)
    store = services.store
    ids = [accept(store, n) for n in range(5)]
    fast = accept(store, 99, path=FAST, lane="fast")
    claimed = [store.claim_next("helpscout", "w", 60)["id"] for _ in range(5)]
    assert claimed == ids  # accepted order, never the fast row
    assert store.claim_next("helpscout", "w", 60) is None
    assert store.claim_next("fast", "w", 60)["id"] == fast
    store.close()


def test_a_supporters_rows_go_one_at_a_time_in_order(store_url, clock):
    services = process_services(store_url, clock)
    store = services.store
    first = accept(store, 1, supporter="+alice")
    bob = accept(store, 2, supporter="+bob")
    second = accept(store, 3, supporter="+alice")
    assert store.claim_next("helpscout", "w1", 60)["id"] == first
    assert store.claim_next("helpscout", "w2", 60)["id"] == bob  # alice's second waits for her first
    assert store.claim_next("helpscout", "w2", 60) is None
    store.finish(bob, "w2", {})
    store.retry(first, "w1", "Help Scout 503", 300, {})  # deferred: still holds her line
    assert store.claim_next("helpscout", "w2", 60) is None
    clock.now += 300
    assert store.claim_next("helpscout", "w2", 60)["id"] == first
    store.finish(first, "w2", {})
    assert store.claim_next("helpscout", "w2", 60)["id"] == second
    store.close()


def test_a_dead_workers_rows_are_claimed_again_when_the_lease_lapses(store_url, clock):
    services = process_services(store_url, clock)
    store = services.store
    row = accept(store, 1)
    assert store.claim_next("helpscout", "killed", worker.LEASE_SECONDS)["id"] == row
    assert store.claim_next("helpscout", "alive", worker.LEASE_SECONDS) is None
    store.renew("killed", [row], worker.LEASE_SECONDS)  # a live worker would; the killed one cannot
    clock.now += worker.LEASE_SECONDS + 1
    again = store.claim_next("helpscout", "alive", worker.LEASE_SECONDS)
    assert again["id"] == row and again["attempts"] == 2
    store.close()


def test_two_processes_share_one_budget_oldest_first_and_no_claim_only_waits(store_url, clock):
    """Planted bugs it catches: a budget kept per process (windows overspent), paced jobs put back
    in the queue (attempts > 1, order shuffled), newest-first dispatch."""
    spend = Spend(cost=2)
    one = process_services(store_url, clock, chain(PAID, spend, "helpscout"))
    two = process_services(store_url, clock, chain(PAID, spend, "helpscout"))
    ids = [accept(one.store, n) for n in range(12)]  # 24 units at 8 a window (80 % of 10)
    for _ in range(12):  # the two processes take turns claiming
        for services in (one, two):
            worker.process_next(services, "helpscout", owner=f"w{id(services)}", waiting=clock.sleep)
    assert [n for n, _ in spend.seen] == list(range(12))  # first come, first served
    allowed = int(10 * HELPSCOUT_BUDGET_SHARE)
    windows = {}
    for _, moment in spend.seen:
        windows[int((moment - T0) // 60)] = windows.get(int((moment - T0) // 60), 0) + 2
    assert max(windows.values()) <= allowed and len(windows) == 3
    rows = {r["id"]: r for r in one.store.rows(limit=50)}
    assert all(rows[i]["state"] == "done" and rows[i]["attempts"] == 1 for i in ids)  # claimed once each
    one.store.close(), two.store.close()


def test_engine_threads_drain_in_order_within_the_budget(store_url, clock):
    """The real Engine (threads, housekeeping) on a store shared by two engines, as two workers:
    rows are claimed strictly oldest first and each once (the windows are pinned by the test above)."""
    spend = Spend(cost=2)
    engines, claims, claiming = [], [], threading.Lock()
    for _ in range(2):
        services = process_services(store_url, clock, chain(PAID, spend, "helpscout"))
        engine = Engine(services, threads=2, fast_threads=1, poll=0.01, periodic=[])
        engine.sleep = clock.sleep  # waiting moves the shared clock instead of sleeping
        engine.lease = 10_000.0  # the fake clock jumps a minute per wait; leases are not this test's
        claim_next = services.store.claim_next

        def record(lane, owner, lease, claim_next=claim_next):
            with claiming:  # note the order in which the store hands rows out
                row = claim_next(lane, owner, lease)
                if row is not None:
                    claims.append(row["id"])
                return row

        services.store.claim_next = record
        engines.append(engine)
    ids = [accept(engines[0].services.store, n) for n in range(20)]
    threads = [t for engine in engines for t in engine.start()]
    store = engines[0].services.store
    try:
        for _ in range(3000):
            if store.counts() == {"done": 20}:
                break
            threading.Event().wait(0.01)
    finally:
        for engine in engines:
            engine.stop()
        for thread in threads:
            thread.join(5)
    assert store.counts() == {"done": 20}
    assert claims == ids  # handed out oldest first, each once, across both workers
    assert sorted(n for n, _ in spend.seen) == list(range(20))
    assert all(r["attempts"] == 1 for r in store.rows(limit=50))  # no claim only to wait again
    for engine in engines:
        engine.services.store.close()


def test_an_agent_reply_is_texted_while_the_paced_lane_waits_then_its_note_waits_its_turn(store_url, clock):
    """Planted bug it catches: replies dispatched in the same queue as the backlog (starved)."""
    released = threading.Event()
    paced_waiting = threading.Event()

    def hold(seconds: float) -> bool:  # the paced job waits until the test lets the window open
        paced_waiting.set()
        released.wait(30)
        clock.now += seconds
        return True

    reply = TextThenNote()
    services = process_services(store_url, clock, chain(PAID, Spend(cost=2), "helpscout"),
                                chain(FAST, reply, "fast"), limit=3)  # two units a window (80 % of 3)
    assert services.store.take_budget("helpscout", 2, HELPSCOUT_BUDGET_SHARE, 3) == 0  # spent by others
    backlog = accept(services.store, 1)
    agent = accept(services.store, 2, path=FAST, lane="fast")
    engine = Engine(services, threads=1, fast_threads=1, poll=0.01, periodic=[])
    engine.sleep = hold
    threads = engine.start()
    try:
        assert paced_waiting.wait(30)
        for _ in range(3000):  # the reply's SMS goes out while the backlog's job still waits
            if reply.texts:
                break
            threading.Event().wait(0.01)
        assert reply.texts == [2] and reply.notes == []
        assert services.store.get(backlog)["state"] == "pending"
        for _ in range(3000):
            row = services.store.get(agent)
            if row["lane"] == "helpscout":
                break
            threading.Event().wait(0.01)
        assert row["lane"] == "helpscout" and row["attempts"] == 0  # moved, not failed
        released.set()
        for _ in range(3000):
            if services.store.counts() == {"done": 2}:
                break
            threading.Event().wait(0.01)
    finally:
        released.set()
        engine.stop()
        for thread in threads:
            thread.join(5)
    assert services.store.counts() == {"done": 2}
    assert reply.texts == [2] and reply.notes == [2]  # texted once, noted once
    services.store.close()


def test_outside_a_paced_worker_a_spent_budget_raises(store_url, clock):
    services = process_services(store_url, clock, limit=2)
    services.budget.acquire(1)
    with pytest.raises(HelpScoutRateLimited):
        services.budget.acquire(1)
    services.store.close()


def test_periodic_tasks_run_once_across_processes(store_url, clock):
    ran = []
    one = process_services(store_url, clock)
    two = process_services(store_url, clock)
    task = PeriodicTask("count", 600, lambda services: ran.append(services))
    for services in (one, two, one, two):
        Engine(services, periodic=[task])._run_periodic()
    assert ran == [one]
    clock.now += 600
    for services in (two, one):
        Engine(services, periodic=[task])._run_periodic()
    assert ran == [one, two]
    assert one.store.last_periodic_run("count") == clock.now
    one.store.close(), two.store.close()


def test_an_older_store_gains_the_lane_column(tmp_path):
    """A store made before the inbox was the queue (no lane column) is migrated at start."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE bling_inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key VARCHAR(200) NOT NULL UNIQUE, "
            "route VARCHAR(200) NOT NULL, supporter VARCHAR(200) NOT NULL, payload TEXT NOT NULL, "
            "state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at FLOAT NOT NULL, "
            "lease_until FLOAT, lease_owner VARCHAR(100), last_error TEXT, result TEXT, "
            "created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL)"))
        conn.execute(sa.text(
            "INSERT INTO bling_inbox (key, route, supporter, payload, state, attempts, next_attempt_at, "
            "created_at, updated_at) VALUES ('old', '/bling/twilio_sms', '+1', '{}', 'pending', 0, 0, 0, 0)"))
    engine.dispose()
    store = Store(url)
    assert store.claim_next("helpscout", "w", 60)["key"] == "old"
    store.close()
