"""Run accepted events through their route's chain, with retries.

The inbox row is the truth and the queue: a worker leases a row (the
oldest claimable one of its lane, or a given one), runs the chain, and
marks it done, defers it (transient failure: backoff with jitter, or the
provider's Retry-After) or buries it as a dead letter (permanent failure
or attempts exhausted) after telling the chain's plugins via
``handle_failure``. A worker killed mid-job loses nothing: its lease
lapses and any worker claims the row again; effects already recorded are
not repeated. bling/jobs/engine.py runs these functions in threads.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time

from bling.jobs import pacing
from bling.context import MAX_ATTEMPTS, Context
from bling.ops.logs import job_context
from bling.errors import PermanentError

log = logging.getLogger("bling.worker")

#: A claimed row is the worker's for this long; a live worker renews it (bling/jobs/engine.py).
LEASE_SECONDS = 60.0
#: Errors meaning "wait your turn" (Help Scout 429 or Bling's own budget, Twilio 429).
RATE_LIMIT_ERRORS = {"HelpScoutRateLimited"}
#: Spread paced jobs over this many seconds after the wait ends.
PACING_JITTER_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def backoff(attempt: int, rng: random.Random = random._inst) -> float:
    """Exponential backoff with full jitter in [0.5, 1.5) of the nominal delay."""
    nominal = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return nominal * (0.5 + rng.random())


def is_rate_limited(ex: BaseException) -> bool:
    """A provider (or Bling's shared budget) asked us to wait: not a failure.

    Such waits do not use up the job's attempts, so a burst far larger than
    the rate limit drains slowly instead of ending in dead letters.
    """
    return (type(ex).__name__ in RATE_LIMIT_ERRORS or getattr(ex, "code", None) == 20429
            or getattr(ex, "status", None) == 429)


def is_permanent(ex: BaseException) -> bool:
    """Retrying cannot help: bad input, or the provider refused for good."""
    return isinstance(ex, PermanentError) or getattr(ex, "permanent", False) is True


def process(services, inbox_id: int, owner: str | None = None) -> str:
    """Run one inbox row if it is claimable now; return done/retry/dead/skipped."""
    owner = owner or worker_id()
    row = services.store.claim(inbox_id, owner, LEASE_SECONDS)
    return "skipped" if row is None else run_claimed(services, row, owner)


def process_next(services, lane: str, owner: str | None = None, waiting=None, on_claim=None,
                 lease: float = LEASE_SECONDS) -> str | None:
    """Claim and run the oldest claimable row of ``lane``; None when none is.

    ``waiting`` (a callable taking seconds, returning False to give up) lets
    the job wait for Help Scout's budget in place instead of being put
    back: the job keeps its turn, and no claim is spent only to wait again.
    ``on_claim(owner, inbox_id)`` hears of the claim before the job runs
    (the engine renews the leases of running jobs).
    """
    owner = owner or worker_id()
    row = services.store.claim_next(lane, owner, lease)
    if row is None:
        return None
    if on_claim is not None:
        on_claim(owner, row["id"])
    if waiting is None:
        return run_claimed(services, row, owner)
    with pacing.waiting_allowed(waiting):
        return run_claimed(services, row, owner)


def run_claimed(services, row: dict, owner: str) -> str:
    """Run a row this worker leased; return done/retry/dead."""
    with job_context(row["id"]):  # every log line of the job names it
        return _run(services, row, owner)


def _run(services, row: dict, owner: str) -> str:
    started = time.monotonic()
    store, inbox_id = services.store, row["id"]
    chain = services.chains_by_path.get(row["route"])
    if chain is None or chain.job_hooks is None:
        store.bury(inbox_id, owner, f"route {row['route']} has no job chain in routes.toml any more", row["result"])
        return "dead"
    event = row["payload"]
    context = Context(settings=services.settings, route=chain.route, services=services,
                      mailbox=None, inbox_id=inbox_id,
                      attempt=row["attempts"], state=dict(row["result"]),
                      logger=logging.getLogger(f"bling.job.{inbox_id}"))
    try:
        context.mailbox = chain.schema.locate(event, services.settings)
        chain.handle_job(context, event)
    except Exception as ex:  # every failure is classified; none escapes the worker
        error = f"{type(ex).__name__}: {ex}"
        if is_permanent(ex) or row["attempts"] >= MAX_ATTEMPTS:
            log.warning("job %s (%s) failed for good: %s", inbox_id, row["key"], error)
            store.bury(inbox_id, owner, error, context.state)
            _tell_failure(chain, context, event, error)
            services.metrics.incr("dead_letters", route=row["route"])
            services.metrics.job(row["route"], "dead", time.monotonic() - started)
            return "dead"
        paced = is_rate_limited(ex)
        if paced and row.get("lane") == "fast":
            # Its fast part is done (e.g. the SMS is sent); the rest waits its turn for the budget.
            log.info("job %s (%s) now waits its turn for Help Scout: %s", inbox_id, row["key"], error)
            store.retry(inbox_id, owner, error, 0, context.state, count_attempt=False, lane="helpscout")
            services.metrics.job(row["route"], "retry", time.monotonic() - started)
            return "retry"
        delay = getattr(ex, "retry_after", None) or backoff(row["attempts"])
        if paced:
            delay += random.uniform(0, PACING_JITTER_SECONDS)  # don't wake every paced job at once
        log.info("job %s (%s) will retry in %.1fs: %s", inbox_id, row["key"], delay, error)
        store.retry(inbox_id, owner, error, delay, context.state, count_attempt=not paced)
        services.metrics.incr("retries", route=row["route"])
        services.metrics.job(row["route"], "retry", time.monotonic() - started)
        return "retry"
    store.finish(inbox_id, owner, context.state)
    services.metrics.job(row["route"], "done", time.monotonic() - started, store.clock() - row["created_at"])
    return "done"


def _tell_failure(chain, context, event, error: str) -> None:
    try:
        chain.fail(context, event, error)
    except Exception:  # the job is already a dead letter; never loop on it
        log.exception("handle_failure for job %s raised", context.inbox_id)


def drain(services, rounds: int = 50) -> dict[str, int]:
    """Process every due row in this thread until none is left (tests, CLI)."""
    totals: dict[str, int] = {}
    for _ in range(rounds):
        ids = services.store.due()
        if not ids:
            break
        progressed = False
        for inbox_id in ids:
            outcome = process(services, inbox_id)
            totals[outcome] = totals.get(outcome, 0) + 1
            progressed |= outcome != "skipped"
        if not progressed:
            break
    return totals
