"""Structured logs: one JSON object per line, with the request or job id, secrets redacted.

Every line carries ``time``, ``level``, ``logger``, ``message`` and either
``request_id`` (the caller's ``X-Request-Id`` when it is a sane token, else
a new one, echoed in the answer) or ``job_id`` (the inbox row a worker
runs). In the sandbox every line also says ``"mode": "SANDBOX"``.

Secrets never reach the output: the values of the secret settings (and any
registered later, e.g. the sandbox's generated ones) are replaced by
``[redacted]`` in the message and the traceback, and so are bearer/basic
credentials and passwords in URLs, whatever logged them.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("bling_request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("bling_job_id", default=None)

#: Settings whose values are secret (environment names and Settings attributes).
SECRET_VARIABLES = ("TWILIO_AUTH_TOKEN", "HELPSCOUT_API_CLIENT_SECRET", "HELPSCOUT_WEBHOOK_SECRET",
                    "HELPSCOUT_APP_SECRET", "BLING_SECRET_KEY", "MOBILECOMMONS_PASSWORD")
SECRET_ATTRIBUTES = ("twilio_auth_token", "helpscout_client_secret", "helpscout_webhook_secret",
                     "helpscout_app_secret", "secret_key", "mobilecommons_password")
#: Shapes of credentials, whatever their value: headers, JSON/form fields, URL passwords.
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 [redacted]"),
    (re.compile(r'(?i)("?(?:client_secret|access_token|auth_token|password|secret)"?\s*[:=]\s*"?)[^"&\s,}]+'), r"\1[redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+@"), r"\1[redacted]@"),
)
#: Paths polled by monitors and the sandbox page: logged at DEBUG unless they fail.
POLLED_PATHS = frozenset({"/healthz", "/metrics", "/sandbox/state"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_NOISY = {"twilio.http_client": logging.WARNING, "urllib3": logging.WARNING}


class Redactor:
    """Replaces known secret values and credential shapes in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 6)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "[redacted]")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redact = Redactor()


def add_secrets_of(settings) -> None:
    """Register the secret values of ``settings`` (called wherever services are built)."""
    redact.add(*(getattr(settings, name, None) for name in SECRET_ATTRIBUTES))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ids from the context, secrets redacted."""

    def __init__(self, sandbox: bool = False):
        super().__init__()
        self.sandbox = sandbox

    def format(self, record: logging.LogRecord) -> str:
        line: dict = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                      "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        rid, jid = getattr(record, "request_id", None) or request_id.get(), getattr(record, "job_id", None) or job_id.get()
        if rid:
            line["request_id"] = rid
        if jid:
            line["job_id"] = jid
        if not rid and not jid:
            line["process"] = f"{record.processName}:{record.process}"
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = redact("".join(traceback.format_exception(*record.exc_info)).strip())
        if self.sandbox:
            line["mode"] = "SANDBOX"
        return json.dumps(line, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(level: str = "INFO", stream=None, sandbox: bool = False, environ: dict | None = None) -> logging.Handler:
    """Send every log line through one JSON handler on ``stream`` (stderr)."""
    import os

    env = os.environ if environ is None else environ
    redact.add(*(env.get(name) for name in SECRET_VARIABLES))
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter(sandbox=sandbox))
    handler._bling = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bling", False):  # configured again (e.g. the sandbox turning on): replace ours only
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, floor in _NOISY.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLogger(name).getEffectiveLevel()))
    return handler


def gunicorn_logconfig(level: str = "INFO", sandbox: bool = False) -> dict:
    """gunicorn's own logs (start, worker boot) as JSON lines too."""
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter, "sandbox": sandbox}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
            "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
                        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
            "root": {"handlers": ["stderr"], "level": level.upper()}}


class RequestLog:
    """Falcon middleware: a request id for every request, and one log line per answer."""

    log = logging.getLogger("bling.http")

    def process_request(self, req, resp):
        given = req.get_header("X-Request-Id") or ""
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        req.context.request_id = rid
        req.context.started = time.monotonic()
        req.context.token = request_id.set(rid)
        resp.set_header("X-Request-Id", rid)

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is None:
            return
        status = resp.status_code
        polled = req.method == "GET" and req.path in POLLED_PATHS and status < 400
        self.log.log(logging.DEBUG if polled else logging.INFO, "%s %s %s", req.method, req.path, status,
                      extra={"method": req.method, "path": req.path, "status": status,
                             "duration_ms": round((time.monotonic() - started) * 1000, 1)})
        token = getattr(req.context, "token", None)
        if token is not None:
            try:
                request_id.reset(token)
            except ValueError:  # answered in another context (a streamed body): just clear it
                request_id.set(None)
