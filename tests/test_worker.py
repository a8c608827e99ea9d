"""bling.jobs.worker: process / process_next / drain / backoff / is_permanent, and Context.effect.

A minimal Services stand-in and in-test plugins; a real Store on both engines.
"""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pytest

from bling.jobs import worker
from bling.routing.chains import Chain
from bling.errors import AmbiguousOutcome, PermanentError, RetryLater
from bling.hookspecs import hookimpl
from bling.ops.metrics import Metrics
from bling.routing.plugin_loader import chain_manager
from bling.routing.routes import Route
from bling.store.core import Store

T0 = 1_700_000_000.0
PATH = "/bling/test"


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class NoMailboxSchema:
    def locate(self, event, settings):
        return None


def make_chain(*plugins, path: str = PATH) -> Chain:
    names = [f"p{i}" for i in range(len(plugins))]
    route = Route(name="test", path=path, verify="none", schema="none", chain=tuple(names), respond="no_content")
    return Chain(route, None, NoMailboxSchema(), chain_manager(list(zip(names, plugins))))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(store_url, clock):
    built = Store(store_url, clock=clock)
    yield built
    built.close()


def make_services(store, *chains):
    return SimpleNamespace(settings=SimpleNamespace(), store=store,
                           chains_by_path={c.route.path: c for c in chains},
                           metrics=Metrics(), plugin_manager=None)


def accept(store, key="SM1", supporter="+1555", route=PATH, payload=None):
    inbox_id, new = store.accept(key, route, supporter, payload or {"key": key})
    assert new
    return inbox_id


class Append:
    """Append its tag to context.state['seen']."""

    def __init__(self, tag):
        self.tag = tag

    @hookimpl
    def handle_event(self, context, event):
        context.state.setdefault("seen", []).append(self.tag)


class Raise:
    """Raise the next queued exception (or nothing), record handle_failure calls."""

    def __init__(self, *errors, failure_raises=False):
        self.errors = list(errors)
        self.failures = []
        self.calls = 0
        self.failure_raises = failure_raises

    @hookimpl
    def handle_event(self, context, event):
        self.calls += 1
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error

    @hookimpl
    def handle_failure(self, context, event, error):
        self.failures.append((context.inbox_id, error))
        if self.failure_raises:
            raise RuntimeError("the failure notifier is broken too")


class Effect:
    """One exactly-once external write, counted in ``ledger``."""

    def __init__(self, name="write", ledger=None, do_errors=(), find=None):
        self.name = name
        self.ledger = ledger if ledger is not None else []
        self.do_errors = list(do_errors)
        self.find_calls = []
        self.find_result = find  # None: no find; else a callable(since) -> found

    @hookimpl
    def handle_event(self, context, event):
        def do():
            self.ledger.append((context.inbox_id, context.attempt))
            if self.do_errors:
                error = self.do_errors.pop(0)
                if error is not None:
                    raise error
            return {"id": len(self.ledger), "attempt": context.attempt}

        find = None
        if self.find_result is not None:
            def find(since):
                self.find_calls.append(since)
                return self.find_result(since)

        context.state[self.name] = context.effect(self.name, do, find)


# -- helpers: backoff, is_permanent ---------------------------------------------


def test_backoff_has_full_jitter_around_an_exponential_nominal():
    rng = random.Random(7)
    for attempt in range(1, 16):
        nominal = min(worker.BACKOFF_CAP_SECONDS, worker.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        delays = [worker.backoff(attempt, rng) for _ in range(200)]
        assert all(0.5 * nominal <= d < 1.5 * nominal for d in delays)
        assert max(delays) - min(delays) > 0.5 * nominal  # really jittered
    assert worker.backoff(0, random.Random(1)) < 1.5 * worker.BACKOFF_BASE_SECONDS
    assert worker.backoff(50, random.Random(1)) < 1.5 * worker.BACKOFF_CAP_SECONDS


class Refused(Exception):
    permanent = True


class NotReally(Exception):
    permanent = "yes"  # only True counts


def test_is_permanent():
    assert worker.is_permanent(PermanentError("bad"))
    assert worker.is_permanent(Refused())
    assert not worker.is_permanent(NotReally())
    assert not worker.is_permanent(RuntimeError())
    assert not worker.is_permanent(RetryLater("later", retry_after=3))


# -- process ---------------------------------------------------------------


def test_chain_runs_in_routes_order_and_success_saves_state(store, clock):
    chain = make_chain(Append("first"), Append("second"), Append("third"))
    services = make_services(store, chain)
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "done"
    row = store.get(inbox_id)
    assert row["state"] == "done"
    assert row["lease_until"] is None
    assert row["attempts"] == 1
    assert row["last_error"] is None
    assert json.loads(row["result"]) == {"seen": ["first", "second", "third"]}
    # a finished row is not run again
    assert worker.process(services, inbox_id, owner="w") == "skipped"


def test_process_skips_rows_it_cannot_claim(store, clock):
    calls = Raise()
    services = make_services(store, make_chain(calls))
    inbox_id = accept(store)
    assert store.claim(inbox_id, "someone-else", worker.LEASE_SECONDS)
    assert worker.process(services, inbox_id, owner="w") == "skipped"
    assert worker.process(services, 4242, owner="w") == "skipped"
    assert calls.calls == 0


def test_retry_later_defers_by_its_retry_after(store, clock):
    plugin = Raise(RetryLater("Help Scout is busy", retry_after=17))
    services = make_services(store, make_chain(Append("a"), plugin))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    row = store.get(inbox_id)
    assert row["state"] == "pending"
    assert row["next_attempt_at"] == T0 + 17
    assert row["lease_until"] is None
    assert row["last_error"] == "RetryLater: Help Scout is busy"
    assert services.metrics.snapshot() == {"retries": 1}
    assert plugin.failures == []
    # not before its time; then it runs and the state saved so far carries on
    clock.advance(16)
    assert worker.process(services, inbox_id, owner="w") == "skipped"
    clock.advance(1)
    assert worker.process(services, inbox_id, owner="w") == "done"
    row = store.get(inbox_id)
    assert row["state"] == "done" and row["attempts"] == 2
    assert json.loads(row["result"]) == {"seen": ["a", "a"]}


def test_plain_exception_backs_off_with_jitter(store, clock):
    plugin = Raise(*[RuntimeError(f"boom {i}") for i in range(3)])
    services = make_services(store, make_chain(plugin))
    inbox_id = accept(store)
    for attempt in (1, 2, 3):
        assert worker.process(services, inbox_id, owner="w") == "retry"
        row = store.get(inbox_id)
        nominal = worker.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        delay = row["next_attempt_at"] - clock.now
        assert 0.5 * nominal <= delay < 1.5 * nominal
        assert row["last_error"] == f"RuntimeError: boom {attempt - 1}"
        assert row["state"] == "pending" and row["attempts"] == attempt
        clock.advance(delay)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert plugin.failures == []


@pytest.mark.parametrize("error", [PermanentError("no such mailbox"), Refused("HTTP 422 from Help Scout")])
def test_permanent_errors_bury_at_once_and_tell_the_chain_once(store, clock, error):
    first, second = Raise(error), Raise()
    services = make_services(store, make_chain(first, second))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "dead"
    row = store.get(inbox_id)
    text = f"{type(error).__name__}: {error}"
    assert row["state"] == "dead"
    assert row["attempts"] == 1
    assert row["last_error"] == text
    assert row["lease_until"] is None
    # every plugin of the chain hears about it, once
    assert first.failures == [(inbox_id, text)]
    assert second.failures == [(inbox_id, text)]
    assert second.calls == 0  # the chain stopped at the failure
    assert services.metrics.snapshot() == {"dead_letters": 1}
    clock.advance(10_000)
    assert store.due() == []
    assert worker.process(services, inbox_id, owner="w") == "skipped"
    assert len(first.failures) == 1


def test_attempts_exhausted_bury_and_tell_once(store, clock):
    plugin = Raise(*[RuntimeError("still down")] * (worker.MAX_ATTEMPTS + 5))
    services = make_services(store, make_chain(plugin))
    inbox_id = accept(store)
    outcomes = []
    for _ in range(worker.MAX_ATTEMPTS + 3):
        outcomes.append(worker.process(services, inbox_id, owner="w"))
        clock.advance(worker.BACKOFF_CAP_SECONDS * 2)
    assert outcomes == ["retry"] * (worker.MAX_ATTEMPTS - 1) + ["dead"] + ["skipped"] * 3
    row = store.get(inbox_id)
    assert row["state"] == "dead"
    assert row["attempts"] == worker.MAX_ATTEMPTS
    assert row["last_error"] == "RuntimeError: still down"
    assert plugin.failures == [(inbox_id, "RuntimeError: still down")]
    assert plugin.calls == worker.MAX_ATTEMPTS
    assert services.metrics.snapshot() == {"retries": worker.MAX_ATTEMPTS - 1, "dead_letters": 1}


def test_a_raising_handle_failure_does_not_escape(store, clock):
    plugin = Raise(PermanentError("bad input"), failure_raises=True)
    services = make_services(store, make_chain(plugin))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "dead"
    assert store.get(inbox_id)["state"] == "dead"
    assert plugin.failures == [(inbox_id, "PermanentError: bad input")]


def test_a_job_whose_route_is_gone_is_buried(store, clock):
    calls = Raise()
    services = make_services(store, make_chain(calls))
    inbox_id = accept(store, route="/bling/removed")
    assert worker.process(services, inbox_id, owner="w") == "dead"
    row = store.get(inbox_id)
    assert row["state"] == "dead"
    assert "/bling/removed" in row["last_error"]
    assert calls.calls == 0 and calls.failures == []


def test_the_dead_owner_cannot_overwrite_a_reclaimed_row(store, clock):
    """A worker whose lease lapsed mid-job and then fails must not touch the row."""
    services = make_services(store, make_chain(Append("a")))
    inbox_id = accept(store)
    assert store.claim(inbox_id, "slow", worker.LEASE_SECONDS)
    clock.advance(worker.LEASE_SECONDS + 1)
    assert worker.process(services, inbox_id, owner="fresh") == "done"
    store.retry(inbox_id, "slow", "late failure", 5, {})
    assert store.get(inbox_id)["state"] == "done"


# -- Context.effect: exactly once ---------------------------------------------------------


def test_effect_done_is_not_redone_after_a_later_plugin_failed(store, clock):
    effect = Effect()
    later = Raise(RuntimeError("Twilio 500"))
    services = make_services(store, make_chain(effect, later))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    assert effect.ledger == [(inbox_id, 1)]
    assert store.effect(inbox_id, "write")["state"] == "done"
    clock.advance(3600)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert effect.ledger == [(inbox_id, 1)]  # exactly once
    # the second attempt got the first attempt's recorded result
    assert json.loads(store.get(inbox_id)["result"])["write"] == {"id": 1, "attempt": 1}


class WriteTimedOut(TimeoutError, AmbiguousOutcome):
    """A write whose outcome is unknown (the API clients mix AmbiguousOutcome in)."""


def test_ambiguous_effect_found_on_the_next_attempt_is_not_redone(store, clock):
    effect = Effect(do_errors=[WriteTimedOut("read timeout")], find=lambda since: {"id": "found-it"})
    services = make_services(store, make_chain(effect))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    recorded = store.effect(inbox_id, "write")
    assert recorded["state"] == "attempting" and recorded["started_at"] == T0
    assert effect.find_calls == []  # nothing to look for on the first attempt
    clock.advance(3600)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert effect.find_calls == [T0]  # looked for writes since the ambiguous attempt began
    assert effect.ledger == [(inbox_id, 1)]  # not redone
    recorded = store.effect(inbox_id, "write")
    assert recorded["state"] == "done" and recorded["result"] == {"id": "found-it"}
    assert json.loads(store.get(inbox_id)["result"])["write"] == {"id": "found-it"}


def test_ambiguous_effect_not_found_is_redone(store, clock):
    effect = Effect(do_errors=[WriteTimedOut("read timeout")], find=lambda since: None)
    services = make_services(store, make_chain(effect))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    clock.advance(3600)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert effect.find_calls == [T0]
    assert effect.ledger == [(inbox_id, 1), (inbox_id, 2)]
    recorded = store.effect(inbox_id, "write")
    assert recorded["state"] == "done"
    assert recorded["result"] == {"id": 2, "attempt": 2}
    assert recorded["started_at"] == T0 + 3600


def test_non_ambiguous_effect_failure_is_simply_redone(store, clock):
    effect = Effect(do_errors=[ConnectionRefusedError("nothing was sent")], find=lambda since: {"id": "x"})
    services = make_services(store, make_chain(effect))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    assert store.effect(inbox_id, "write") is None  # known not to have happened
    clock.advance(3600)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert effect.find_calls == []  # no need to look
    assert effect.ledger == [(inbox_id, 1), (inbox_id, 2)]
    assert store.effect(inbox_id, "write")["result"] == {"id": 2, "attempt": 2}


def test_ambiguous_effect_without_find_is_redone(store, clock):
    effect = Effect(do_errors=[WriteTimedOut("read timeout")])
    services = make_services(store, make_chain(effect))
    inbox_id = accept(store)
    assert worker.process(services, inbox_id, owner="w") == "retry"
    clock.advance(3600)
    assert worker.process(services, inbox_id, owner="w") == "done"
    assert effect.ledger == [(inbox_id, 1), (inbox_id, 2)]


def test_effects_are_per_event(store, clock):
    ledger = []
    services = make_services(store, make_chain(Effect(ledger=ledger)))
    ids = [accept(store, key=f"SM{i}", supporter=f"+{i}") for i in range(3)]
    assert worker.drain(services) == {"done": 3}
    assert sorted(ledger) == [(i, 1) for i in ids]


# -- drain ---------------------------------------------------------------


def test_drain_runs_every_due_row_one_supporter_at_a_time(store, clock):
    order = []

    class Record:
        @hookimpl
        def handle_event(self, context, event):
            order.append(event["key"])

    services = make_services(store, make_chain(Record()))
    accept(store, "A1", supporter="+A")
    accept(store, "A2", supporter="+A")
    accept(store, "B1", supporter="+B")
    accept(store, "A3", supporter="+A")
    totals = worker.drain(services)
    assert totals.get("done") == 4
    assert order.index("A1") < order.index("A2") < order.index("A3")
    assert sorted(order) == ["A1", "A2", "A3", "B1"]
    assert store.counts() == {"done": 4}
    assert worker.drain(services) == {}


def test_drain_leaves_deferred_rows_for_later(store, clock):
    plugin = Raise(RetryLater("later", retry_after=30))
    services = make_services(store, make_chain(plugin))
    inbox_id = accept(store)
    assert worker.drain(services) == {"retry": 1}
    assert store.get(inbox_id)["state"] == "pending"
    clock.advance(30)
    assert worker.drain(services) == {"done": 1}
    assert store.get(inbox_id)["state"] == "done"


def test_rate_limit_waits_never_use_up_attempts(store_url):
    """A burst far beyond the rate limit drains slowly; it never ends in dead letters."""
    from types import SimpleNamespace

    from bling.routing.chains import Chain
    from bling.clients.helpscout import HelpScoutRateLimited
    from bling.hookspecs import hookimpl
    from bling.ops.metrics import Metrics
    from bling.routing.plugin_loader import chain_manager
    from bling.routing.routes import Route
    from bling.store.core import Store
    from bling.jobs.worker import MAX_ATTEMPTS, process

    clock = SimpleNamespace(now=1000.0)
    store = Store(store_url, clock=lambda: clock.now)
    waits = {"left": MAX_ATTEMPTS * 3}

    class Paced:
        @hookimpl
        def handle_event(self, context, event):
            if waits["left"]:
                waits["left"] -= 1
                raise HelpScoutRateLimited(30)

    route = Route(name="r", path="/r", verify="twilio", schema="s", chain=("paced",))
    chain = Chain(route, None, SimpleNamespace(locate=lambda e, s: None), chain_manager([("paced", Paced())]))
    services = SimpleNamespace(settings=None, store=store, chains_by_path={"/r": chain},
                               metrics=Metrics(), plugin_manager=None)
    inbox_id, _ = store.accept("k", "/r", "alice", {})
    outcomes = []
    for _ in range(MAX_ATTEMPTS * 3 + 1):
        outcomes.append(process(services, inbox_id))
        clock.now += 40
    assert outcomes[-1] == "done" and "dead" not in outcomes
    assert store.get(inbox_id)["attempts"] == 1
    store.close()


def test_state_is_saved_when_a_write_starts(store_url):
    """A worker killed during a write leaves its decisions (e.g. first contact) for the retry."""
    import json as _json
    from types import SimpleNamespace

    from bling.context import Context
    from bling.store.core import Store

    store = Store(store_url)
    inbox_id, _ = store.accept("k", "/r", "alice", {})
    store.claim(inbox_id, "w1", 60)
    context = Context(settings=None, route=None, services=SimpleNamespace(store=store), inbox_id=inbox_id,
                      state={"first_contact": True})

    def killed():
        raise KeyboardInterrupt  # stands for SIGKILL: no except clause of Bling's runs

    with pytest.raises(KeyboardInterrupt):
        context.effect("conversation", killed)
    assert _json.loads(store.get(inbox_id)["result"]) == {"first_contact": True}
    assert store.effect(inbox_id, "conversation")["state"] == "attempting"
    store.close()
