"""Every line a running Bling writes is one JSON object — gunicorn's, the worker's, the banners — and a terminal can read them.

A real ``bling serve --sandbox`` (gunicorn, its worker process, the
sandbox's provisioning) runs against its own SQLite file; a text goes
through the whole loop; every line of its stderr must parse as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from test_serve_processes import free_port, wait_until

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
BLING = os.path.join(os.path.dirname(sys.executable), "bling")
FIELDS = {"time", "level", "logger", "message"}


def clean_env(tmp_path, **extra) -> dict:
    """The machine's environment without any Bling, Twilio or Help Scout setting (the sandbox refuses real ones)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("BLING_", "TWILIO_", "HELPSCOUT_", "MOBILECOMMONS_", "PROMETHEUS_"))}
    return {**env, "BLING_STORE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}", **extra}


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


def test_every_line_of_a_running_sandbox_is_one_json_object(tmp_path):
    port = free_port()
    err = open(tmp_path / "stderr.log", "wb")
    out = open(tmp_path / "stdout.log", "wb")
    proc = subprocess.Popen([BLING, "serve", "--sandbox", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                            env=clean_env(tmp_path), stdout=out, stderr=err, cwd=tmp_path)
    stderr = lambda: (tmp_path / "stderr.log").read_text()  # noqa: E731
    try:
        wait_until(lambda: "SANDBOX ready" in stderr() and "event(s) waiting" in stderr(), 90,
                   "the sandbox to be provisioned and its worker to start")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/sandbox/actions/text", method="POST",
                                         data=json.dumps({"from": "+16175550123", "to": "+16175550100",
                                                          "body": "Where do I vote?"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        wait_until(lambda: "Messages.json 201" in stderr(), 60, "the worker to text the first-contact auto-reply")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        err.close()
        out.close()
    lines = json_lines(stderr())
    for line in lines:
        assert FIELDS <= set(line), line
        assert line["mode"] == "SANDBOX", line
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "bling.cli", "bling.http", "bling.sandbox"} <= loggers, loggers
    assert any("SANDBOX: no Twilio or Help Scout settings found" in line["message"] for line in lines)  # the banner
    assert any(line["message"].startswith("bling worker:") for line in lines)
    assert any(line["logger"] == "bling.http" and line["path"] == "/bling/twilio_sms" and line.get("request_id")
               for line in lines)
    assert (tmp_path / "stdout.log").read_text() == ""


def test_an_uncaught_exception_and_a_warning_are_json_lines_without_secrets(tmp_path):
    script = ("import warnings\n"
              "from bling.ops.logs import configure, log_uncaught_exceptions\n"
              "configure('INFO'); log_uncaught_exceptions()\n"
              "warnings.warn('old API')\n"
              "raise RuntimeError('Twilio refused token s3cret-value-123')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=clean_env(tmp_path, TWILIO_AUTH_TOKEN="s3cret-value-123"))
    assert result.returncode == 1
    warning, crash = json_lines(result.stderr)
    assert warning["logger"] == "py.warnings" and "old API" in warning["message"]
    assert crash["level"] == "CRITICAL" and "RuntimeError: Twilio refused token [redacted]" in crash["error"]
    assert "s3cret-value-123" not in result.stderr


def test_console_format_is_readable_and_a_bad_format_is_named(tmp_path):
    script = "import logging\nfrom bling.ops.logs import configure\nconfigure('INFO')\nlogging.getLogger('bling.x').info('hello there')\n"
    readable = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=clean_env(tmp_path, BLING_LOG_FORMAT="console"))
    (line,) = readable.stderr.splitlines()
    assert "hello there" in line and "[bling.x]" in line and not line.startswith("{")
    as_json = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(tmp_path))
    assert json.loads(as_json.stderr)["message"] == "hello there"  # stderr is not a terminal: JSON
    bad = subprocess.run([BLING, "routes"], capture_output=True, text=True, env=clean_env(tmp_path, BLING_LOG_FORMAT="xml"))
    assert bad.returncode == 1 and "BLING_LOG_FORMAT='xml': expected one of json, console" in bad.stderr


def test_a_terminal_gets_the_console_format():
    from bling.ops.logs import log_format

    class Terminal:
        def isatty(self):
            return True

    assert log_format({}, Terminal()) == "console"
    assert log_format({"BLING_LOG_FORMAT": "json"}, Terminal()) == "json"
    with open(os.devnull, "w") as pipe_like:
        assert log_format({}, pipe_like) == "json"

