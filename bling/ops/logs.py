"""Structured logs: one JSON object per line on stderr, with the request or job id, secrets redacted.

Every record — Bling's, gunicorn's, any library's, Python's warnings and
uncaught exceptions — goes through structlog's ``ProcessorFormatter``, so
each line carries ``time``, ``level``, ``logger``, ``message`` and either
``request_id`` (the caller's ``X-Request-Id`` when it is a sane token, else
a new one, echoed in the answer) or ``job_id`` (the inbox row a worker
runs); tracebacks are one ``error`` field. In the sandbox every line also
says ``"mode": "SANDBOX"``.

``BLING_LOG_FORMAT=console`` renders the same records as readable lines
for a terminal; unset, it is ``console`` when stderr is a terminal and
``json`` otherwise (a service manager, a container, a file).
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import re
import sys
import threading
import time
import uuid

import structlog

from bling.errors import ConfigError
from bling.ops.redaction import add_secrets_from_environment, add_secrets_of, redact  # noqa: F401 (add_secrets_of: services)

FORMATS = ("json", "console")
#: Paths polled by monitors and the sandbox page: logged at DEBUG unless they fail.
POLLED_PATHS = frozenset({"/healthz", "/metrics", "/sandbox/state"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_NOISY = {"twilio.http_client": logging.WARNING, "urllib3": logging.WARNING}
#: ``extra=`` fields a record may carry onto its line (the ``bling.http`` line's, and ids given by hand).
_EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "job_id")


def log_format(environ=None, stream=None) -> str:
    """``json`` or ``console``: BLING_LOG_FORMAT, else console for a terminal and JSON for anything else."""
    env = os.environ if environ is None else environ
    chosen = env.get("BLING_LOG_FORMAT", "").strip().lower()
    if chosen and chosen not in FORMATS:
        raise ConfigError(f"BLING_LOG_FORMAT={chosen!r}: expected one of {', '.join(FORMATS)}")
    if chosen:
        return chosen
    stream = sys.stderr if stream is None else stream
    return "console" if getattr(stream, "isatty", lambda: False)() else "json"


def _record_level(_logger, _name, event_dict):
    event_dict["level"] = event_dict["_record"].levelname
    return event_dict


def _redact_values(_logger, _name, event_dict):
    for key, value in event_dict.items():
        if isinstance(value, str) and not key.startswith("_"):
            event_dict[key] = redact(value)
    return event_dict


def _exception_as_error(_logger, _name, event_dict):
    if "exception" in event_dict:
        event_dict["error"] = event_dict.pop("exception").strip()
    return event_dict


def _fixed_fields_first(_logger, _name, event_dict):
    """time, level, logger, message lead every JSON line, the rest follow as they came."""
    first = {key: event_dict.pop(key) for key in ("time", "level", "logger", "message") if key in event_dict}
    if isinstance(first.get("message"), str):
        first["message"] = first["message"].rstrip()
    return {**first, **event_dict}


def _lowercase_level(_logger, _name, event_dict):
    event_dict["level"] = event_dict["level"].lower()  # ConsoleRenderer's colours are keyed by lowercase names
    return event_dict


class _JSONFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's JSON formatter, with a direct way for a plain record.

    Every request writes a line; ProcessorFormatter copies the record and
    runs a dozen processors for it, a tenth of an SMS webhook's own work.
    A stdlib record without exception or stack info (every request's line)
    is turned here into the same line directly: the same fields, in the same
    order, redacted alike. Anything else goes the long way.
    tests/test_observability.py checks both ways give the same lines.
    """

    def __init__(self, *args, sandbox: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._sandbox = sandbox

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.stack_info or hasattr(record, "_logger"):
            return super().format(record)
        # The order of the processors in formatter(): context, extras, level, logger, time, process, message.
        event = {"event": record.getMessage()}
        for key, value in structlog.contextvars.get_contextvars().items():
            event.setdefault(key, value)
        fields = record.__dict__
        for key in _EXTRA_FIELDS:
            if key in fields:
                event[key] = fields[key]
        event["level"] = record.levelname
        event["logger"] = record.name
        event["time"] = datetime.datetime.now(tz=datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        event["process"] = record.process
        event["message"] = event.pop("event")
        if self._sandbox:
            event["mode"] = "SANDBOX"
        line = _fixed_fields_first(None, None, _redact_values(None, None, event))
        try:
            return json.dumps(line, ensure_ascii=False)
        except (TypeError, ValueError):  # a value JSON cannot hold: structlog's renderer knows what to do
            return super().format(record)


def formatter(sandbox: bool = False, fmt: str = "json", colors: bool = False) -> logging.Formatter:
    """The one formatter of every handler: stdlib records through structlog's processors, then JSON or console."""
    shared = [
        structlog.contextvars.merge_contextvars,  # request_id / job_id bound by RequestLog and job_context
        structlog.stdlib.ExtraAdder(allow=_EXTRA_FIELDS),
        _record_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.processors.CallsiteParameterAdder([structlog.processors.CallsiteParameter.PROCESS]),
        structlog.processors.EventRenamer("message"),
    ]
    if sandbox:
        shared.append(lambda _l, _n, event_dict: {**event_dict, "mode": "SANDBOX"})
    tail = [structlog.processors.format_exc_info, _redact_values]
    if fmt == "console":
        tail += [_lowercase_level, structlog.dev.ConsoleRenderer(colors=colors, event_key="message", timestamp_key="time")]
    else:
        tail += [_exception_as_error, _fixed_fields_first, structlog.processors.JSONRenderer(ensure_ascii=False)]
    processors = [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail]
    if fmt == "console":
        return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=processors)
    return _JSONFormatter(foreign_pre_chain=shared, processors=processors, sandbox=sandbox)


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
    """Send every log record, and Python's warnings, through one handler on ``stream`` (stderr)."""
    env = os.environ if environ is None else environ
    add_secrets_from_environment(env)
    fmt = log_format(env, stream)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter(sandbox, fmt, colors=fmt == "console" and handler.stream.isatty()))
    handler._bling = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bling", False):  # configured again (e.g. the sandbox turning on): replace ours only
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, floor in _NOISY.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLogger(name).getEffectiveLevel()))
    logging.captureWarnings(True)  # warnings.warn → the "py.warnings" logger, not a bare stderr line
    return handler


def log_uncaught_exceptions() -> None:
    """An exception nobody caught (main thread or another) becomes one log line, not a bare traceback."""
    log = logging.getLogger("bling")

    def on_exception(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            return sys.__excepthook__(kind, value, tb)
        log.critical("uncaught %s: %s", kind.__name__, value, exc_info=(kind, value, tb))

    def on_thread_exception(args):
        if args.exc_type is SystemExit:
            return
        log.critical("uncaught %s in thread %s: %s", args.exc_type.__name__, getattr(args.thread, "name", "?"),
                     args.exc_value, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception


def gunicorn_logconfig(level: str = "INFO", sandbox: bool = False) -> dict:
    """gunicorn's own logs (start, worker boot) through the same formatter."""
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"bling": {"()": formatter, "sandbox": sandbox, "fmt": log_format(),
                                     "colors": log_format() == "console" and sys.stderr.isatty()}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "bling", "stream": "ext://sys.stderr"}},
            "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
                        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
            "root": {"handlers": ["stderr"], "level": level.upper()}}


def job_context(inbox_id: int):
    """``with job_context(id):`` every line logged inside names the job (the inbox row a worker runs)."""
    return structlog.contextvars.bound_contextvars(job_id=str(inbox_id))


class RequestLog:
    """Falcon middleware: a request id for every request, and one log line per answer."""

    log = logging.getLogger("bling.http")

    def process_request(self, req, resp):
        given = req.get_header("X-Request-Id") or ""
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        req.context.request_id = rid
        req.context.started = time.monotonic()
        req.context.tokens = structlog.contextvars.bind_contextvars(request_id=rid)
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
        tokens = getattr(req.context, "tokens", None)
        if tokens is not None:
            try:
                structlog.contextvars.reset_contextvars(**tokens)
            except ValueError:  # answered in another context (a streamed body): just clear it
                structlog.contextvars.unbind_contextvars("request_id")
