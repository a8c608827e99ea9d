"""Counters and timings: an in-process snapshot (/healthz) and Prometheus (/metrics).

Prometheus under gunicorn: ``bling serve`` runs several web processes and a
worker process, so the counters use prometheus_client's *multiprocess mode*
(``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary folder per ``bling serve``,
see ``bling.edge.wsgi.prepare_metrics_dir``): each process writes its own files
and any web process answers /metrics with the sum. That keeps a counter
increment a memory write instead of a database write per event; the
gauges that describe shared state (queue depth, dead letters, oldest job)
are read from the store at scrape time, so they are right whichever
process answers. On several machines, scrape each one (Prometheus sums).
Without the variable (tests, ``bling worker`` alone) the process's own
registry is used.
"""

from __future__ import annotations

import os
import threading
from collections import Counter

from prometheus_client import CollectorRegistry, Counter as PromCounter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

#: Every metric Bling exports starts with this.
PREFIX = "bling_"

WEBHOOKS = PromCounter("bling_webhooks_total", "Webhook requests by route and outcome "
                       "(accepted, duplicate, ignored, rendered, forged, invalid, error)", ["route", "outcome"])
JOBS = Histogram("bling_job_run_seconds", "Time one job attempt took, by route and outcome (done, retry, dead)",
                 ["route", "outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
JOB_LATENCY = Histogram("bling_job_latency_seconds", "From accepting an event to finishing its job",
                        ["route"], buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400))
API_CALLS = PromCounter("bling_api_calls_total", "Calls to Help Scout and Twilio by service and HTTP status "
                        "(error: no answer)", ["service", "status"])
API_SECONDS = Histogram("bling_api_call_seconds", "Time of one API call", ["service"],
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
RATE_LIMIT_WAITS = PromCounter("bling_rate_limit_waits_total", "Jobs deferred by a rate limit (Bling's budget "
                               "or a 429)", ["service"])
RATE_LIMIT_SECONDS = PromCounter("bling_rate_limit_wait_seconds_total", "Seconds of deferral asked by rate limits",
                                 ["service"])
RETRIES = PromCounter("bling_job_retries_total", "Job attempts that failed and were scheduled again", ["route"])
DEAD_LETTERS = PromCounter("bling_dead_letters_total", "Jobs that became dead letters", ["route"])
SMS = PromCounter("bling_sms_total", "SMS Bling tried to send, by outcome (sent, failed)", ["outcome"])


class Metrics:
    """Thread-safe named counters; /healthz reports them, Prometheus gets the labelled ones."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: Counter = Counter()

    def incr(self, name: str, amount: int = 1, route: str = "") -> None:
        """Count ``name``: ``webhook:<route>:<outcome>``, ``retries``, ``dead_letters``…"""
        with self._lock:
            self._counts[name] += amount
        if name.startswith("webhook:"):
            path, _, outcome = name[len("webhook:"):].rpartition(":")
            WEBHOOKS.labels(path, outcome).inc(amount)
        elif name == "retries":
            RETRIES.labels(route).inc(amount)
        elif name == "dead_letters":
            DEAD_LETTERS.labels(route).inc(amount)

    def job(self, route: str, outcome: str, seconds: float, latency: float | None = None) -> None:
        """One job attempt ended; ``latency`` (accept → done) when it finished."""
        JOBS.labels(route, outcome).observe(seconds)
        if latency is not None:
            JOB_LATENCY.labels(route).observe(max(0.0, latency))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def record_sms(outcome: str) -> None:
    SMS.labels(outcome).inc()


def record_rate_limit_wait(service: str, seconds: float) -> None:
    RATE_LIMIT_WAITS.labels(service).inc()
    RATE_LIMIT_SECONDS.labels(service).inc(max(0.0, seconds))


def record_api_call(service: str, status: str, seconds: float) -> None:
    API_CALLS.labels(service, status).inc()
    API_SECONDS.labels(service).observe(seconds)
    if status == "429":
        RATE_LIMIT_WAITS.labels(service).inc()


class WebhookErrors:
    """Falcon middleware: count refused webhook payloads (4xx) and failures (5xx) by route."""

    def process_response(self, req, resp, resource, req_succeeded):
        route = getattr(resource, "route", None)
        status = resp.status_code
        if route is None or status < 400 or status in (401, 403, 405):  # forgeries are counted at the edge
            return
        WEBHOOKS.labels(route.path, "error" if status >= 500 else "invalid").inc()


class StoreGauges:
    """Gauges read from the store at scrape time: the same answer from every process."""

    def __init__(self, services):
        self.services = services

    def collect(self):
        facts = self.services.store.queue_facts()
        for name, help_text in (("pending", "Accepted events not yet done (waiting, deferred or running)"),
                                ("due", "Events whose time has come and no worker holds"),
                                ("dead_letters", "Dead letters waiting for an operator (bling jobs)")):
            yield GaugeMetricFamily(f"bling_queue_{name}", help_text, value=facts[name])
        yield GaugeMetricFamily("bling_queue_oldest_due_seconds", "Age of the oldest event waiting for a worker",
                                value=facts["oldest_due_seconds"] or 0.0)
        for service, seen in facts.get("api", {}).items():
            if seen.get("last_ok_at"):
                yield GaugeMetricFamily(f"bling_{service}_last_success_timestamp_seconds",
                                        f"When Bling last got a 2xx from {service}", value=seen["last_ok_at"])


def exposition(services) -> bytes:
    """The /metrics body: this process's (or all processes') counters, then the store's gauges."""
    if multiprocess_mode():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        counters = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(StoreGauges(services))
    try:
        return counters + generate_latest(gauges)
    except Exception:  # the store is down: /healthz says so; the counters still count
        return counters


def multiprocess_mode() -> bool:
    """True when this process's metrics live in PROMETHEUS_MULTIPROC_DIR files (decided at import)."""
    from prometheus_client import values

    return getattr(values.ValueClass, "__name__", "") == "MmapedValue" and bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class MetricsResource:
    """GET /metrics in Prometheus' text format."""

    def __init__(self, services):
        self.services = services

    def on_get(self, req, resp):
        from prometheus_client import CONTENT_TYPE_LATEST

        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = exposition(self.services)

