"""What /healthz reports, and the API-call bookkeeping behind its "last success" times.

Healthy means: the store answers (it is the queue too), and the workers
are alive — an event due for longer than ``BLING_HEALTH_MAX_WAIT`` seconds
(default 600) while no worker has recorded its heartbeat (every 30 s) for
as long is a dead worker; a backlog with live workers is only a warning.
Anything else is 503,
so a load balancer or uptime check notices. Dead letters and a failing
provider are reported (``warnings``) without making Bling unhealthy: Bling
still accepts every webhook, which is its promise.

Every Help Scout and Twilio call goes through an instrumented transport
(``instrumented_session``, ``instrumented_twilio_http_client``) that counts it
for /metrics and records the last success and failure per service in the
store (successes at most every ``OK_WRITE_INTERVAL`` seconds per process,
so a burst does not add a write per call).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time

from bling import __version__
from bling.lazy_modules import LazyModule
from bling.ops.metrics import record_api_call

log = logging.getLogger("bling.health")
requests = LazyModule("requests")  # the transports below are built by a worker's first call, not at import
twilio_http_client = LazyModule("twilio.http.http_client")

DEFAULT_MAX_WAIT = 600.0
OK_WRITE_INTERVAL = 10.0
SERVICES = ("helpscout", "twilio")


def health_report(services, details: bool = False) -> tuple[int, dict]:
    """(HTTP status, JSON body) for GET /healthz; ``details`` (``bling health``) adds what failed.

    /healthz answers anyone, so its answer is status, times and counts: the
    text of a failed call names conversations and Call SIDs, and stays behind
    the CLI.
    """
    settings = services.settings
    report: dict = {"service": "bling", "version": __version__, "time": int(time.time())}
    if getattr(settings, "sandbox", False):
        report["mode"] = "SANDBOX"
        report["sandbox"] = True
    problems: list[str] = []
    warnings: list[str] = []
    try:
        services.store.ping()
        facts = services.store.queue_facts()
        report["store"] = "ok"
        report.update(pending=facts["pending"], due=facts["due"], dead_letters=facts["dead_letters"],
                      oldest_pending_seconds=facts["oldest_pending_seconds"],
                      oldest_due_seconds=facts["oldest_due_seconds"])
        report["last_success"] = {s: _iso(facts["api"].get(s, {}).get("last_ok_at")) for s in SERVICES}
        report["last_failure"] = {s: _failure(facts["api"].get(s, {}), details) for s in SERVICES}
        max_wait = float(os.environ.get("BLING_HEALTH_MAX_WAIT", "") or DEFAULT_MAX_WAIT)
        seen = facts["api"].get("worker", {}).get("last_ok_at")
        report["worker_last_seen"] = _iso(seen)
        overdue = facts["oldest_due_seconds"] is not None and facts["oldest_due_seconds"] > max_wait
        if overdue and seen is not None and services.store.clock() - seen > max_wait:
            problems.append(f"an event has waited {facts['oldest_due_seconds']:.0f}s and no worker has been seen for "
                            f"{services.store.clock() - seen:.0f}s (over {max_wait:.0f}s): is `bling worker` running?")
        elif overdue:
            warnings.append(f"an event has waited {facts['oldest_due_seconds']:.0f}s for a worker")
        if facts["dead_letters"]:
            warnings.append(f"{facts['dead_letters']} dead letter(s): see `bling jobs list --state dead`")
        for service in SERVICES:
            seen = facts["api"].get(service, {})
            if (seen.get("last_failure_at") or 0) > (seen.get("last_ok_at") or 0):
                warnings.append(f"the last {service} call failed: "
                                + (seen.get("last_failure") or "?" if details else "see `bling health`"))
    except Exception as ex:
        report["store"] = f"unreachable: {type(ex).__name__}"
        problems.append("the store is unreachable")
    report["queue"] = report["store"]  # the inbox is the queue
    report["counters"] = services.metrics.snapshot()
    report["status"] = "unhealthy" if problems else "ok"
    report["problems"], report["warnings"] = problems, warnings
    return (503 if problems else 200), report


def _iso(moment: float | None) -> str | None:
    if not moment:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds")


def _failure(seen: dict, details: bool) -> dict | None:
    if not seen.get("last_failure_at"):
        return None
    return {"at": _iso(seen["last_failure_at"]), **({"what": seen.get("last_failure")} if details else {})}


def record_worker_heartbeat(store) -> None:
    """A worker is alive: /healthz tells a dead worker from a busy one by this (bling/jobs/engine.py, every 30 s)."""
    store.record_api("worker", last_ok_at=store.clock())


class ApiRecorder:
    """Counts each API call and keeps the store's last success / failure per service."""

    def __init__(self, store, clock=time.time):
        self.store, self.clock = store, clock
        self._last_ok_write: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, service: str, status: int | None, seconds: float, what: str = "") -> None:
        record_api_call(service, str(status) if status is not None else "error", seconds)
        now = self.clock()
        ok = status is not None and 200 <= status < 400
        if ok:
            with self._lock:
                if now - self._last_ok_write.get(service, 0.0) < OK_WRITE_INTERVAL:
                    return
                self._last_ok_write[service] = now
        try:
            self._write(service, now, ok, what or f"HTTP {status}" if status is not None else what)
        except Exception:  # bookkeeping must never fail the call it describes
            log.debug("could not record the %s call in the store", service, exc_info=True)

    def _write(self, service: str, now: float, ok: bool, what: str) -> None:
        values = {"last_ok_at": now} if ok else {"last_failure_at": now, "last_failure": what[:200]}
        self.store.record_api(service, **values)


def instrumented_session(service: str, recorder: ApiRecorder):
    """The Help Scout client's session (``requests.Session``): every exchange is counted and timed."""
    return _transports()[0](service, recorder)


def instrumented_twilio_http_client(recorder: ApiRecorder, timeout: float = 10.0):
    """The Twilio library's HTTP client: every exchange is counted and timed."""
    return _transports()[1](recorder, timeout)


@functools.cache
def _transports() -> tuple[type, type]:
    """The two instrumented classes, defined on first use: their bases import requests."""

    class InstrumentedSession(requests.Session):
        """The Help Scout client's session: every exchange is counted and timed."""

        def __init__(self, service: str, recorder: ApiRecorder):
            super().__init__()
            self.service, self.recorder = service, recorder

        def request(self, method, url, *args, **kwargs):
            started = time.monotonic()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as ex:
                self.recorder.observe(self.service, None, time.monotonic() - started, f"{method} failed: {type(ex).__name__}")
                raise
            path = requests.utils.urlparse(url).path
            self.recorder.observe(self.service, response.status_code, time.monotonic() - started,
                                  f"{method} {path} → {response.status_code}")
            return response

    class InstrumentedTwilioHttpClient(twilio_http_client.TwilioHttpClient):
        """The Twilio library's HTTP client: every exchange is counted and timed."""

        def __init__(self, recorder: ApiRecorder, timeout: float = 10.0):
            super().__init__(timeout=timeout)
            self.recorder = recorder

        def request(self, method, url, *args, **kwargs):
            started = time.monotonic()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as ex:
                self.recorder.observe("twilio", None, time.monotonic() - started, f"{method} failed: {type(ex).__name__}")
                raise
            path = requests.utils.urlparse(url).path
            self.recorder.observe("twilio", response.status_code, time.monotonic() - started,
                                  f"{method} {path.rsplit('/', 1)[-1]} → {response.status_code}")
            return response

    return InstrumentedSession, InstrumentedTwilioHttpClient
