"""Signed Twilio webhooks and a small threaded HTTP load generator.

Why pure Python (threads + http.client) rather than wrk: it runs on a fresh
machine with nothing but Bling's venv, and both targets (Bling and the
floor) meet the same client, so the client's own cost cancels out of the
ratio. Requests are built and signed before the clock starts, so signing
is not measured. Each client keeps its connection open when the server
allows it (gunicorn's sync worker closes it after every answer, so each
request then includes a loopback TCP connect, for both targets alike).
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bling.edge.verifiers import helpscout_signature

SMS_PATH = "/bling/twilio_sms"


@dataclass(frozen=True)
class SignedRequest:
    path: str
    body: bytes
    headers: dict[str, str]
    message_sid: str


def new_message_sid() -> str:
    """A MessageSid never used before (the idempotency key must be fresh)."""
    return "SM" + uuid.uuid4().hex


def signed_sms(public_url: str, auth_token: str, account_sid: str, hotline: str, sender: str, body: str,
               message_sid: str | None = None) -> SignedRequest:
    """An inbound-SMS webhook exactly as Twilio signs it for BLING_PUBLIC_URL + path."""
    sid = message_sid or new_message_sid()
    fields = [("ToCountry", "US"), ("ToState", "MA"), ("SmsMessageSid", sid), ("NumMedia", "0"),
              ("ToCity", "BOSTON"), ("FromZip", "02139"), ("SmsSid", sid), ("FromState", "MA"),
              ("SmsStatus", "received"), ("FromCity", "CAMBRIDGE"), ("Body", body), ("FromCountry", "US"),
              ("To", hotline), ("ToZip", ""), ("NumSegments", "1"), ("ReferralNumMedia", "0"),
              ("MessageSid", sid), ("AccountSid", account_sid), ("From", sender), ("ApiVersion", "2010-04-01")]
    signature = RequestValidator(auth_token).compute_signature(public_url.rstrip("/") + SMS_PATH, dict(fields))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
               "User-Agent": "TwilioProxy/1.1"}
    return SignedRequest(SMS_PATH, urlencode(fields).encode(), headers, sid)


def signed_helpscout(path: str, secret: str, payload: dict, event: str, key: str) -> SignedRequest:
    """A Help Scout webhook: JSON signed with X-HelpScout-Signature (base64 HMAC-SHA1 of the body)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-HelpScout-Event": event,
               "X-HelpScout-Signature": helpscout_signature(secret, body)}
    return SignedRequest(path, body, headers, key)


@dataclass
class LoadResult:
    """Per-request latencies (seconds) and outcomes of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    wall_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    #: Wall-clock time (time.time) each request was answered 2xx, by its MessageSid: when Bling accepted it.
    answered_at: dict[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in seconds (p in 0..100)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
        return ordered[rank - 1]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) if self.latencies else float("nan")

    @property
    def throughput(self) -> float:
        """Answered requests per second over the whole run."""
        return self.count / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> dict:
        return {"requests": self.count, "ok": self.ok, "statuses": self.statuses, "errors": self.errors,
                "p50_ms": self.percentile(50) * 1000, "p90_ms": self.percentile(90) * 1000,
                "p99_ms": self.percentile(99) * 1000, "max_ms": max(self.latencies, default=0) * 1000,
                "mean_ms": self.mean * 1000, "throughput_rps": self.throughput,
                "wall_seconds": self.wall_seconds, "failures": self.failures[:5]}


def merge(runs: list[LoadResult]) -> LoadResult:
    """One result from several rounds: all latencies, summed wall time (rounds do not overlap)."""
    total = LoadResult()
    for run in runs:
        total.latencies.extend(run.latencies)
        for status, n in run.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + n
        total.errors += run.errors
        total.failures.extend(run.failures)
        total.wall_seconds += run.wall_seconds
        total.answered_at.update(run.answered_at)
    return total


def run_load(host: str, port: int, requests: list[SignedRequest], clients: int, timeout: float = 60.0) -> LoadResult:
    """Send every request once, ``clients`` at a time; measure each answer."""
    result = LoadResult()
    lock = threading.Lock()
    next_index = itertools.count().__next__  # atomic under the GIL

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        answered: dict[str, float] = {}
        while True:
            index = next_index()
            if index >= len(requests):
                break
            req = requests[index]
            started = time.perf_counter()
            try:
                conn.request("POST", req.path, body=req.body, headers=req.headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as ex:
                conn.close()
                with lock:
                    result.errors += 1
                    result.failures.append(f"{type(ex).__name__}: {ex}")
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if 200 <= response.status < 300:
                answered[req.message_sid] = time.time()
            if response.status >= 300:
                with lock:
                    result.failures.append(f"{response.status}: {payload[:200]!r}")
            if response.will_close:
                conn.close()  # http.client reconnects on the next request
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.answered_at.update(answered)
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    return result
