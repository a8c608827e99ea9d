"""bling.store.group_commit and Store.accept on it: concurrent accepts share a transaction, none is
answered before its own row is written, a failing row does not refuse the others."""

from __future__ import annotations

import threading

import pytest

from bling.store.group_commit import GroupCommit
from bling.store.core import Store


def test_requests_that_wait_together_share_one_write_and_each_gets_its_own_result():
    written: list[list[int]] = []
    first_write_started, release = threading.Event(), threading.Event()

    def write(items):
        if not written:
            first_write_started.set()
            release.wait(10)  # the first batch is slow: the others queue up behind it
        written.append(list(items))
        return [item * 10 for item in items]

    group = GroupCommit(write)
    results: dict[int, int] = {}

    def submit(n):
        results[n] = group.submit(n)
        assert any(n in batch for batch in written)  # answered only once its batch was written

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert first_write_started.wait(10)
    others = [threading.Thread(target=submit, args=(n,)) for n in range(1, 9)]
    for thread in others:
        thread.start()
    for _ in range(1000):  # every other request is waiting in the queue
        if len(group._pending) == 8:
            break
        threading.Event().wait(0.005)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == {n: n * 10 for n in range(9)}
    assert written[0] == [0] and sorted(written[1]) == list(range(1, 9))  # one write for the eight
    assert group._pending == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the cut-off writer dies
def test_an_interrupted_batch_writer_leaves_nothing_stuck(monkeypatch):
    """Planted bug it catches: batches led by the requests themselves — a leader cut off mid-batch
    (its connection's deadline fires while it yields) left every later accept waiting for a leader
    that never came."""
    import bling.store.group_commit as group_commit

    class CutOff(BaseException):
        pass

    cuts = {"left": 1}

    def sleep(seconds):
        if cuts["left"]:
            cuts["left"] -= 1
            raise CutOff()

    monkeypatch.setattr(group_commit.time, "sleep", sleep)
    group = GroupCommit(lambda items: [item.upper() for item in items])
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("a", _quietly(group.submit, "a")), daemon=True)
    first.start()
    first.join(2)  # its writer was cut off
    second = threading.Thread(target=lambda: results.setdefault("b", group.submit("b")), daemon=True)
    second.start()
    second.join(10)
    assert results.get("b") == "B"  # a later accept is written, not stuck
    first.join(10)
    assert results.get("a") == "A"  # and so is the one whose writer was cut off


def _quietly(call, *args):
    try:
        return call(*args)
    except BaseException as ex:  # noqa: BLE001 - the cut-off caller's fate is not this test's
        return ex


def test_a_failed_write_fails_every_request_of_its_batch_and_the_next_batch_goes_on():
    calls = []

    def write(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise OSError("disk full")
        return items

    group = GroupCommit(write)
    with pytest.raises(OSError, match="disk full"):
        group.submit("a")
    assert group.submit("b") == "b"


def test_one_bad_row_does_not_refuse_the_rest_of_its_batch(store_url, monkeypatch):
    """Planted bug it catches: a batch failing as a whole answers 503 to good events too."""
    store = Store(store_url)
    insert = store._insert_accepts

    def picky(rows):
        if any(row["key"] == "bad" for row in rows):
            raise ValueError("cannot store this row")
        return insert(rows)

    monkeypatch.setattr(store, "_insert_accepts", picky)
    rows = [dict(key=key, route="/r", supporter="+1", payload="{}", lane="helpscout", state="pending", attempts=0,
                 next_attempt_at=0.0, created_at=0.0, updated_at=0.0) for key in ("good", "bad")]
    good, bad = store._write_accepts(rows)
    assert good[1] is True and isinstance(bad, ValueError)
    assert [r["key"] for r in store.rows()] == ["good"]  # the good one was written on its own
    store.close()


def test_concurrent_accepts_of_the_same_key_make_one_row(store_url):
    store = Store(store_url)
    outcomes = []
    barrier = threading.Barrier(8)

    def accept():
        barrier.wait(10)
        outcomes.append(store.accept("SM-same", "/bling/twilio_sms", "+1", {"n": 1}))

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 8
    assert len({inbox_id for inbox_id, _ in outcomes}) == 1
    assert sum(new for _, new in outcomes) == 1
    assert store.counts() == {"pending": 1}
    store.close()
