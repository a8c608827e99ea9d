"""Modules imported, and API clients built, on first use: what a web process never loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bling.lazy_modules import BuiltOnFirstUse, LazyModule
from support import HOTLINE, MAILBOX_ID, load_form, make_env

#: What a web process on a SQLite store must not load to verify, parse, triage and accept a text
#: (each a few MB per process: bench/README.md, "Memory").
NOT_IN_A_WEB_PROCESS = ("requests", "urllib3", "charset_normalizer", "bs4", "phonenumbers", "psycopg2",
                        "twilio.http", "sqlalchemy.dialects.postgresql")


def test_a_lazy_module_is_imported_by_its_first_attribute():
    module = LazyModule("json.tool")
    sys.modules.pop("json.tool", None)
    assert "json.tool" not in sys.modules and "not imported" in repr(module)
    assert module.main is sys.modules["json.tool"].main
    assert "imported" in repr(module) and "not" not in repr(module)


def test_a_client_is_built_once_by_its_first_use():
    built = []

    def build():
        built.append(1)
        return json.JSONDecoder()

    client = BuiltOnFirstUse(build)
    assert built == [] and repr(client) == "<built on first use>"
    assert client.decode("[1]") == [1] and client.decode("2") == 2
    assert built == [1]


def test_a_web_process_accepts_a_text_without_the_workers_modules(tmp_path):
    """The web app, built as a gunicorn worker builds it, takes a text; the modules a job needs stay unloaded.

    Planted bug it catches: a module-level ``import requests`` (or bs4, phonenumbers …) in a module the
    plugins import, or a client built eagerly by build_services."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("BLING_", "TWILIO_", "HELPSCOUT_"))},
           **make_env(f"sqlite:///{tmp_path / 'web.db'}", BLING_MAILBOXES=f"twilio:{HOTLINE}:{MAILBOX_ID}")}
    # (A hotline outside North America would load phonenumbers to read BLING_MAILBOXES: that is its first use.)
    script = f"""
import json, sys
from urllib.parse import urlencode
import falcon.testing
from twilio.request_validator import RequestValidator
import bling.edge.wsgi

app = bling.edge.wsgi.application_factory()
pairs = {load_form("sms_basic")!r}
url = {env["BLING_PUBLIC_URL"]!r}.rstrip("/") + "/bling/twilio_sms"
signature = RequestValidator({env["TWILIO_AUTH_TOKEN"]!r}).compute_signature(url, dict(pairs))
loaded_before = [m for m in {NOT_IN_A_WEB_PROCESS!r} if m in sys.modules]
resp = falcon.testing.TestClient(app).simulate_post("/bling/twilio_sms", body=urlencode(pairs), headers={{
    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}})
print(json.dumps({{"status": resp.status_code, "loaded": [m for m in {NOT_IN_A_WEB_PROCESS!r} if m in sys.modules],
                  "loaded_before": loaded_before}}))
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 200
    assert report["loaded"] == [], f"a web process loaded {report['loaded']} (before the request: {report['loaded_before']})"
