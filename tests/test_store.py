"""Every Store method, on SQLite and on the real PostgreSQL (``store_url``)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from bling.store.core import Store, budgets

T0 = 1_700_000_000.0
LEASE = 120.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(store_url, clock):
    built = Store(store_url, clock=clock)
    yield built
    built.close()


def accept(store, key, supporter="+16175550123", route="/r", payload=None):
    inbox_id, new = store.accept(key, route, supporter, payload or {"Body": key})
    assert new
    return inbox_id


def test_store_creates_its_tables_where_the_url_says(store):
    with store.engine.connect() as conn:
        if store.is_postgres:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            tables = set(conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}).scalars())
        else:
            tables = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert {"bling_inbox", "bling_effects", "bling_conversations", "bling_tokens", "bling_budgets"} <= tables


# -- inbox: accept -----------------------------------------------------------


def test_accept_records_a_pending_row(store, clock):
    inbox_id, new = store.accept("SM1", "/bling/twilio_sms", "+1555", {"Body": "hi", "n": [1, 2]})
    assert new is True
    row = store.get(inbox_id)
    assert row["key"] == "SM1"
    assert row["route"] == "/bling/twilio_sms"
    assert row["supporter"] == "+1555"
    assert row["state"] == "pending"
    assert row["attempts"] == 0
    assert row["next_attempt_at"] == T0
    assert row["created_at"] == T0
    assert row["lease_until"] is None and row["lease_owner"] is None
    assert store.due() == [inbox_id]


def test_accept_dedupes_by_key(store, clock):
    first, new = store.accept("SM1", "/r", "+1555", {"Body": "hi"})
    assert new is True
    clock.advance(5)
    again, new_again = store.accept("SM1", "/r", "+1555", {"Body": "a different body"})
    assert (again, new_again) == (first, False)
    other, other_new = store.accept("SM2", "/r", "+1555", {"Body": "hi"})
    assert other_new is True and other != first
    assert store.counts() == {"pending": 2}
    # the first payload is kept: the duplicate changed nothing
    assert store.claim(first, "w", LEASE)["payload"] == {"Body": "hi"}


def test_get_missing_row_is_none(store):
    assert store.get(12345) is None
    assert store.claim(12345, "w", LEASE) is None


# -- inbox: claim --------------------------------------------------------------


def test_claim_leases_and_counts_attempts(store, clock):
    inbox_id = accept(store, "SM1", payload={"Body": "hello"})
    row = store.claim(inbox_id, "worker-a", LEASE)
    assert row is not None
    assert row["payload"] == {"Body": "hello"}
    assert row["result"] == {}
    assert row["attempts"] == 1
    assert row["lease_owner"] == "worker-a"
    assert row["lease_until"] == T0 + LEASE
    stored = store.get(inbox_id)
    assert stored["attempts"] == 1 and stored["lease_owner"] == "worker-a"
    assert store.due() == []


def test_claim_refuses_a_leased_row_until_the_lease_lapses(store, clock):
    inbox_id = accept(store, "SM1")
    assert store.claim(inbox_id, "worker-a", LEASE) is not None
    assert store.claim(inbox_id, "worker-b", LEASE) is None
    assert store.claim(inbox_id, "worker-a", LEASE) is None  # not even its own owner
    clock.advance(LEASE - 1)
    assert store.claim(inbox_id, "worker-b", LEASE) is None
    assert store.due() == []
    clock.advance(2)  # lease lapsed
    assert store.due() == [inbox_id]
    row = store.claim(inbox_id, "worker-b", LEASE)
    assert row is not None
    assert row["attempts"] == 2
    assert row["lease_owner"] == "worker-b"
    assert row["lease_until"] == clock.now + LEASE


def test_claim_refuses_a_row_not_yet_due(store, clock):
    inbox_id = accept(store, "SM1")
    assert store.claim(inbox_id, "w", LEASE) is not None
    store.retry(inbox_id, "w", "RetryLater: later", 30, {"step": 1})
    assert store.claim(inbox_id, "w", LEASE) is None
    assert store.due() == []
    clock.advance(29.5)
    assert store.claim(inbox_id, "w", LEASE) is None
    clock.advance(0.5)
    row = store.claim(inbox_id, "w", LEASE)
    assert row is not None
    assert row["attempts"] == 2
    assert row["result"] == {"step": 1}


def test_claim_refuses_finished_and_dead_rows(store, clock):
    done_id = accept(store, "SM1", supporter="+1")
    dead_id = accept(store, "SM2", supporter="+2")
    for inbox_id in (done_id, dead_id):
        assert store.claim(inbox_id, "w", LEASE)
    store.finish(done_id, "w", {})
    store.bury(dead_id, "w", "boom", {})
    clock.advance(LEASE * 10)
    assert store.claim(done_id, "w", LEASE) is None
    assert store.claim(dead_id, "w", LEASE) is None
    assert store.due() == []


# -- per-supporter serialisation ----------------------------------------------


def test_one_job_per_supporter_at_a_time(store, clock):
    older = accept(store, "SM1", supporter="+1555")
    clock.advance(1)
    newer = accept(store, "SM2", supporter="+1555")
    stranger = accept(store, "SM3", supporter="+1999")

    # the newer waits while the older is pending and not yet claimed
    assert store.claim(newer, "w2", LEASE) is None
    # another supporter's row is not held up
    assert store.claim(stranger, "w3", LEASE) is not None
    # the older goes first; while it is leased the newer still waits
    assert store.claim(older, "w1", LEASE) is not None
    assert store.claim(newer, "w2", LEASE) is None
    # the older is deferred (still pending): the newer keeps waiting, order is kept
    store.retry(older, "w1", "RetryLater", 10, {})
    assert store.claim(newer, "w2", LEASE) is None
    clock.advance(10)
    assert store.claim(older, "w1", LEASE) is not None
    store.finish(older, "w1", {"done": True})
    # once the older is done, the newer runs
    row = store.claim(newer, "w2", LEASE)
    assert row is not None and row["attempts"] == 1
    assert store.get(newer)["attempts"] == 1  # refused claims did not count attempts


def test_a_dead_older_row_no_longer_blocks_and_a_replayed_one_waits_for_the_leased_newer(store, clock):
    older = accept(store, "SM1", supporter="+1555")
    newer = accept(store, "SM2", supporter="+1555")
    assert store.claim(older, "w1", LEASE)
    store.bury(older, "w1", "PermanentError: bad", {})
    row = store.claim(newer, "w2", LEASE)
    assert row is not None
    # replaying the older while the newer is leased: the older waits its turn
    assert store.replay(older) is True
    assert store.claim(older, "w1", LEASE) is None
    store.finish(newer, "w2", {})
    assert store.claim(older, "w1", LEASE) is not None


def test_a_lapsed_lease_on_the_older_row_still_blocks_the_newer(store, clock):
    older = accept(store, "SM1", supporter="+1555")
    newer = accept(store, "SM2", supporter="+1555")
    assert store.claim(older, "dead-worker", LEASE)
    clock.advance(LEASE + 1)  # its worker died
    assert store.due() == [older, newer]
    assert store.claim(newer, "w2", LEASE) is None
    assert store.claim(older, "w1", LEASE) is not None


def _race(store_url, clock, target_ids, threads=8):
    """``threads`` separate Stores (as if separate processes) claim at once."""
    stores = [Store(store_url, clock=clock) for _ in range(threads)]
    barrier = threading.Barrier(threads)
    wins, errors = [], []

    def run(index):
        try:
            barrier.wait()
            target = target_ids[index % len(target_ids)]
            row = stores[index].claim(target, f"worker-{index}", LEASE)
            if row is not None:
                wins.append((index, row["id"], row["lease_owner"]))
        except Exception as ex:  # pragma: no cover - reported below
            errors.append(ex)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)
    for built in stores:
        built.close()
    assert errors == []
    return wins


def test_concurrent_claims_of_one_row_have_exactly_one_winner(store, store_url, clock):
    inbox_id = accept(store, "SM1")
    wins = _race(store_url, clock, [inbox_id])
    assert len(wins) == 1
    index, won_id, owner = wins[0]
    assert won_id == inbox_id and owner == f"worker-{index}"
    row = store.get(inbox_id)
    assert row["attempts"] == 1
    assert row["lease_owner"] == owner


def test_concurrent_claims_of_one_supporters_rows_have_exactly_one_winner(store, store_url, clock):
    older = accept(store, "SM1", supporter="+1555")
    newer = accept(store, "SM2", supporter="+1555")
    wins = _race(store_url, clock, [older, newer])
    assert len(wins) == 1
    assert wins[0][1] == older
    assert store.get(newer)["attempts"] == 0
    assert store.get(newer)["lease_owner"] is None


# -- due / kill -9 -------------------------------------------------------------


def test_due_lists_pending_rows_that_are_due_and_unleased(store, clock):
    a = accept(store, "SM1", supporter="+1")
    b = accept(store, "SM2", supporter="+2")
    c = accept(store, "SM3", supporter="+3")
    d = accept(store, "SM4", supporter="+4")
    assert store.due() == [a, b, c, d]
    assert store.due(limit=2) == [a, b]
    store.claim(a, "w", LEASE)                      # leased
    store.claim(b, "w", LEASE)
    store.retry(b, "w", "later", 60, {})            # deferred
    store.claim(c, "w", LEASE)
    store.finish(c, "w", {})                        # done
    assert store.due() == [d]
    clock.advance(61)
    assert store.due() == [b, d]
    clock.advance(LEASE)
    assert store.due() == [a, b, d]


def test_killed_worker_loses_nothing_and_its_late_writes_are_ignored(store, clock):
    inbox_id = accept(store, "SM1")
    assert store.claim(inbox_id, "killed", LEASE)
    # kill -9: no finish, no retry; the lease lapses
    clock.advance(LEASE + 1)
    assert store.due() == [inbox_id]
    row = store.claim(inbox_id, "survivor", LEASE)
    assert row["attempts"] == 2 and row["lease_owner"] == "survivor"
    # the dead owner's late writes change nothing: the row is no longer theirs
    store.finish(inbox_id, "killed", {"from": "killed"})
    store.retry(inbox_id, "killed", "late", 999, {"from": "killed"})
    store.bury(inbox_id, "killed", "late", {"from": "killed"})
    stored = store.get(inbox_id)
    assert stored["state"] == "pending"
    assert stored["lease_owner"] == "survivor"
    assert stored["result"] is None
    assert stored["next_attempt_at"] == T0
    store.finish(inbox_id, "survivor", {"from": "survivor"})
    stored = store.get(inbox_id)
    assert stored["state"] == "done"
    assert stored["result"] == '{"from": "survivor"}'


# -- finish / retry / bury / replay ---------------------------------------------


def test_finish(store, clock):
    inbox_id = accept(store, "SM1")
    store.claim(inbox_id, "w", LEASE)
    clock.advance(3)
    store.finish(inbox_id, "w", {"conversation_id": 42, "sids": ["SMa"]})
    row = store.get(inbox_id)
    assert row["state"] == "done"
    assert row["lease_until"] is None
    assert row["last_error"] is None
    assert row["updated_at"] == T0 + 3
    assert row["result"] == '{"conversation_id": 42, "sids": ["SMa"]}'
    assert store.counts() == {"done": 1}
    assert store.oldest_pending_age() is None


def test_retry(store, clock):
    inbox_id = accept(store, "SM1")
    store.claim(inbox_id, "w", LEASE)
    clock.advance(2)
    store.retry(inbox_id, "w", "HelpScoutError: 503", 45.5, {"conversation_id": 42})
    row = store.get(inbox_id)
    assert row["state"] == "pending"
    assert row["lease_until"] is None
    assert row["next_attempt_at"] == T0 + 2 + 45.5
    assert row["last_error"] == "HelpScoutError: 503"
    assert row["result"] == '{"conversation_id": 42}'
    assert row["attempts"] == 1
    assert store.oldest_pending_age() == 2


def test_bury_and_replay(store, clock):
    inbox_id = accept(store, "SM1")
    store.claim(inbox_id, "w", LEASE)
    store.retry(inbox_id, "w", "first", 1, {})
    clock.advance(1)
    store.claim(inbox_id, "w", LEASE)
    store.bury(inbox_id, "w", "PermanentError: no such mailbox", {"step": 2})
    row = store.get(inbox_id)
    assert row["state"] == "dead"
    assert row["lease_until"] is None
    assert row["last_error"] == "PermanentError: no such mailbox"
    assert row["result"] == '{"step": 2}'
    assert row["attempts"] == 2
    assert [r["id"] for r in store.rows("dead")] == [inbox_id]
    assert store.rows("pending") == []
    assert store.counts() == {"dead": 1}

    assert store.replay(99999) is False
    clock.advance(100)
    assert store.replay(inbox_id) is True
    assert store.replay(inbox_id) is False  # no longer dead
    row = store.get(inbox_id)
    assert row["state"] == "pending"
    assert row["attempts"] == 0
    assert row["next_attempt_at"] == T0 + 101
    assert store.due() == [inbox_id]
    claimed = store.claim(inbox_id, "w2", LEASE)
    assert claimed["attempts"] == 1
    assert claimed["result"] == {"step": 2}  # what it obtained is kept


def test_bury_without_owner_takes_any_row(store):
    inbox_id = accept(store, "SM1")
    store.bury(inbox_id, None, "route gone", {})
    assert store.get(inbox_id)["state"] == "dead"


def test_rows_counts_and_ping(store, clock):
    ids = [accept(store, f"SM{i}", supporter=f"+{i}") for i in range(3)]
    store.claim(ids[0], "w", LEASE)
    store.finish(ids[0], "w", {})
    assert [r["id"] for r in store.rows()] == list(reversed(ids))
    assert [r["id"] for r in store.rows(limit=1)] == [ids[2]]
    assert [r["id"] for r in store.rows("pending")] == [ids[2], ids[1]]
    assert store.counts() == {"done": 1, "pending": 2}
    clock.advance(7)
    assert store.oldest_pending_age() == 7
    store.ping()


# -- effects -------------------------------------------------------------------


def test_effects_started_done_and_read_back(store, clock):
    inbox_id = accept(store, "SM1")
    assert store.effect(inbox_id, "create_conversation") is None
    started = store.effect_started(inbox_id, "create_conversation")
    assert started == T0
    found = store.effect(inbox_id, "create_conversation")
    assert found == {"inbox_id": inbox_id, "name": "create_conversation", "state": "attempting",
                     "started_at": T0, "result": None}
    store.effect_done(inbox_id, "create_conversation", {"id": 42, "threads": [1, 2]})
    found = store.effect(inbox_id, "create_conversation")
    assert found["state"] == "done"
    assert found["result"] == {"id": 42, "threads": [1, 2]}
    assert found["started_at"] == T0
    # a scalar result round-trips too
    clock.advance(1)
    store.effect_started(inbox_id, "sms")
    store.effect_done(inbox_id, "sms", "SM123")
    assert store.effect(inbox_id, "sms")["result"] == "SM123"
    assert [e["name"] for e in store.effects_of(inbox_id)] == ["create_conversation", "sms"]
    # effects are per inbox row
    assert store.effect(inbox_id + 1, "sms") is None


def test_effect_started_again_replaces_the_attempt(store, clock):
    inbox_id = accept(store, "SM1")
    store.effect_started(inbox_id, "sms")
    clock.advance(30)
    assert store.effect_started(inbox_id, "sms") == T0 + 30
    found = store.effect(inbox_id, "sms")
    assert found["state"] == "attempting" and found["started_at"] == T0 + 30
    assert len(store.effects_of(inbox_id)) == 1


def test_effect_forget(store):
    inbox_id = accept(store, "SM1")
    store.effect_started(inbox_id, "sms")
    store.effect_forget(inbox_id, "sms")
    assert store.effect(inbox_id, "sms") is None
    assert store.effects_of(inbox_id) == []
    store.effect_forget(inbox_id, "never")  # forgetting nothing is fine


# -- supporter -> conversation map ------------------------------------------------


def test_conversation_map(store, clock):
    assert store.conversation_for(206906, "+1555") is None
    store.remember_conversation(206906, "+1555", 1001, 1)
    found = store.conversation_for(206906, "+1555")
    assert found == {"mailbox_id": 206906, "phone": "+1555", "conversation_id": 1001,
                     "thread_count": 1, "updated_at": T0}
    clock.advance(5)
    store.remember_conversation(206906, "+1555", 1001, 2)
    found = store.conversation_for(206906, "+1555")
    assert found["thread_count"] == 2 and found["updated_at"] == T0 + 5
    # keyed by mailbox and phone
    store.remember_conversation(206907, "+1555", 2002, 1)
    assert store.conversation_for(206907, "+1555")["conversation_id"] == 2002
    assert store.conversation_for(206906, "+1555")["conversation_id"] == 1001
    # a new conversation replaces the old
    store.remember_conversation(206906, "+1555", 3003, 1)
    assert store.conversation_for(206906, "+1555")["conversation_id"] == 3003
    # big Help Scout ids fit
    store.remember_conversation(206906, "+1666", 2**40, 1)
    assert store.conversation_for(206906, "+1666")["conversation_id"] == 2**40
    store.forget_conversation(206906, "+1555")
    assert store.conversation_for(206906, "+1555") is None
    assert store.conversation_for(206907, "+1555") is not None


# -- shared token -------------------------------------------------------------------


def test_token_put_get_drop(store, store_url):
    assert store.token("helpscout") is None
    store.put_token("helpscout", "tok-1", T0 + 7200)
    assert store.token("helpscout") == ("tok-1", T0 + 7200)
    # another process sees the same token
    other = Store(store_url)
    try:
        assert other.token("helpscout") == ("tok-1", T0 + 7200)
        other.put_token("helpscout", "tok-2", T0 + 9000)
    finally:
        other.close()
    assert store.token("helpscout") == ("tok-2", T0 + 9000)
    # dropping a stale token leaves the fresh one in place
    store.drop_token("helpscout", "tok-1")
    assert store.token("helpscout") == ("tok-2", T0 + 9000)
    store.put_token("twilio", "tw", T0)
    store.drop_token("helpscout", "tok-2")
    assert store.token("helpscout") is None
    assert store.token("twilio") == ("tw", T0)


# -- shared rate budget ----------------------------------------------------------------


def test_budget_spends_share_of_the_limit_with_writes_costing_two(store, clock):
    # limit 200, share 0.8 -> 160 units: 80 writes
    for _ in range(80):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    clock.advance(15)
    wait = store.take_budget("helpscout", 2, 0.8, 200)
    assert wait == pytest.approx(45)
    assert store.take_budget("helpscout", 1, 0.8, 200) == pytest.approx(45)
    # the refused calls spent nothing
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(budgets.c.used)).scalar_one() == 160
    clock.advance(45)  # window resets after 60 s
    assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0


def test_budget_reads_cost_one_and_fill_the_last_unit(store, clock):
    for _ in range(79):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 1, 0.8, 200) == 0.0   # 159
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0       # 161 > 160
    assert store.take_budget("helpscout", 1, 0.8, 200) == 0.0   # 160
    assert store.take_budget("helpscout", 1, 0.8, 200) > 0


def test_budget_is_per_service(store):
    for _ in range(80):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0
    assert store.take_budget("other", 2, 0.8, 200) == 0.0


def test_budget_is_shared_by_every_process(store, store_url, clock):
    other = Store(store_url, clock=clock)
    try:
        for _ in range(40):
            assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
            assert other.take_budget("helpscout", 2, 0.8, 200) == 0.0
        assert store.take_budget("helpscout", 2, 0.8, 200) > 0
        assert other.take_budget("helpscout", 2, 0.8, 200) > 0
    finally:
        other.close()


def test_budget_concurrent_takers_never_overspend(store, store_url, clock):
    stores = [Store(store_url, clock=clock) for _ in range(6)]
    granted, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(stores))

    def run(mine):
        try:
            barrier.wait()
            for _ in range(30):
                if mine.take_budget("helpscout", 2, 0.8, 200) == 0.0:
                    with lock:
                        granted.append(2)
        except Exception as ex:  # pragma: no cover - reported below
            errors.append(ex)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for built in stores:
        built.close()
    assert errors == []
    assert sum(granted) == 160  # 180 asked, exactly the 80 % share granted


def test_observe_budget_remaining_lowers_the_allowance(store, clock):
    assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    # Help Scout says other clients used most of the minute: 200 - 50 = 150 used
    store.observe_budget("helpscout", 200, 50, None, 200)
    for _ in range(5):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0  # up to 160
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0
    # a stale, higher remaining never gives spent units back
    store.observe_budget("helpscout", 200, 199, None, 200)
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0


def test_observe_budget_retry_after_blocks_until_then(store, clock):
    store.observe_budget("helpscout", None, None, 30, 200)
    assert store.take_budget("helpscout", 1, 0.8, 200) == pytest.approx(30)
    clock.advance(10)
    assert store.take_budget("helpscout", 1, 0.8, 200) == pytest.approx(20)
    # a shorter Retry-After never shortens the block
    store.observe_budget("helpscout", None, None, 5, 200)
    assert store.take_budget("helpscout", 1, 0.8, 200) == pytest.approx(20)
    clock.advance(20)
    # the block over, a whole fresh minute's share is there
    for _ in range(80):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0


def test_observe_budget_limit_header_updates_the_limit(store, clock):
    store.observe_budget("helpscout", 400, None, None, 200)   # a bigger plan: 320 units
    for _ in range(160):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0
    clock.advance(60)
    store.observe_budget("helpscout", 100, None, None, 200)   # a smaller one: 80 units
    for _ in range(40):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(budgets.c.limit_per_minute)).scalar_one() == 100


def test_observe_budget_in_a_new_window_starts_it(store, clock):
    for _ in range(80):
        store.take_budget("helpscout", 2, 0.8, 200)
    clock.advance(61)
    store.observe_budget("helpscout", 200, 190, None, 200)  # 10 used in the new minute
    for _ in range(75):
        assert store.take_budget("helpscout", 2, 0.8, 200) == 0.0
    assert store.take_budget("helpscout", 2, 0.8, 200) > 0


def test_a_store_opened_with_its_schema_ready_registers_the_tables_without_touching_the_database(tmp_path):
    """What bling serve's web processes do: their parent created the tables just before forking them."""
    url = f"sqlite:///{tmp_path / 'bling.db'}"
    trusting = Store(url, schema_ready=True)
    assert "bling_inbox" in trusting.tables
    assert sa.inspect(trusting.engine).get_table_names() == []  # nothing created: it trusted its parent
    Store(url)  # the parent (bling serve) creates them
    assert "bling_inbox" in sa.inspect(trusting.engine).get_table_names()
