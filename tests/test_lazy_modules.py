"""Modules imported, and API clients built, on first use: what a web process never loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bling.lazy_modules import BuiltOnFirstUse, LazyModule
from support import HOTLINE, MAILBOX_ID, load_form, load_json, make_env

#: What a web process on a SQLite store must not load to verify, parse, triage and accept a text
#: (each a few MB per process: bench/README.md, "Memory").
NOT_IN_A_WEB_PROCESS = ("requests", "urllib3", "charset_normalizer", "bs4", "phonenumbers", "psycopg2", "defusedxml",
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


def test_a_web_process_accepts_a_text_and_a_reply_without_the_workers_modules(tmp_path):
    """The web app, built as a gunicorn worker builds it, takes a text and an agent's reply; the modules a
    job needs stay unloaded.

    Planted bugs it catches: a module-level ``import requests`` (or bs4, phonenumbers …) in a module the
    plugins import, a client built eagerly by build_services, or a triage that parses the reply's HTML."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("BLING_", "TWILIO_", "HELPSCOUT_"))},
           **make_env(f"sqlite:///{tmp_path / 'web.db'}", BLING_MAILBOXES=f"twilio:{HOTLINE}:{MAILBOX_ID}")}
    # (A hotline outside North America would load phonenumbers to read BLING_MAILBOXES: that is its first use.)
    script = f"""
import json, sys
from urllib.parse import urlencode
import falcon.testing
from twilio.request_validator import RequestValidator
import bling.edge.wsgi

from bling.edge.verifiers import helpscout_signature
from bling.store.core import Store

app = bling.edge.wsgi.application_factory()
app_rows = lambda: len(Store({env["BLING_STORE_URL"]!r}).rows())
pairs = {load_form("sms_basic")!r}
url = {env["BLING_PUBLIC_URL"]!r}.rstrip("/") + "/bling/twilio_sms"
signature = RequestValidator({env["TWILIO_AUTH_TOKEN"]!r}).compute_signature(url, dict(pairs))
loaded_before = [m for m in {NOT_IN_A_WEB_PROCESS!r} if m in sys.modules]
client = falcon.testing.TestClient(app)
resp = client.simulate_post("/bling/twilio_sms", body=urlencode(pairs), headers={{
    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}})
reply = json.dumps({load_json("agent_reply_v2")!r}).encode()
replied = client.simulate_post("/bling/helpscout_webhook", body=reply, content_type="application/json", headers={{
    "X-HelpScout-Event": "convo.agent.reply.created",
    "X-HelpScout-Signature": helpscout_signature({env["HELPSCOUT_WEBHOOK_SECRET"]!r}, reply)}})
print(json.dumps({{"status": resp.status_code, "reply_status": replied.status_code, "stored": app_rows(),
                  "loaded": [m for m in {NOT_IN_A_WEB_PROCESS!r} if m in sys.modules], "loaded_before": loaded_before}}))
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 200 and report["reply_status"] == 204
    assert report["stored"] == 2  # both accepted, neither ignored
    assert report["loaded"] == [], f"a web process loaded {report['loaded']} (before the request: {report['loaded_before']})"


def test_a_workers_twilio_calls_never_load_the_librarys_resource_classes():
    """Sends, calls, reads and set-up's number lookups go through twilio's generic Version
    (bling/clients/twilio_rest.py): the resource classes' ~80 modules (6.8 MB a worker) stay unloaded.

    Planted bug it catches: any ``client.api.v2010…`` or ``client.messaging`` use on these paths."""
    script = """
import datetime, json, sys
from bling.clients.twilio_api import TwilioGateway, TwilioSendError

gateway = TwilioGateway("AC" + "0" * 32, "token", base_url="http://127.0.0.1:9")  # nothing listens: each call fails
calls = [lambda: gateway.send_sms("+16175550100", "+16175550101", "hi", status_callback="https://x.test/s"),
         lambda: gateway.find_sent_message("+16175550100", "+16175550101", "hi", datetime.datetime.now()),
         lambda: gateway.list_inbound("+16175550100", datetime.datetime.now()),
         lambda: gateway.list_media("MM" + "0" * 32), lambda: gateway.fetch_call("CA" + "0" * 32),
         lambda: gateway.call_recordings("CA" + "0" * 32), lambda: gateway.end_call("CA" + "0" * 32, "canceled"),
         lambda: gateway.create_call("+16175550100", "+16175550101", "https://x.test/t", "https://x.test/s"),
         lambda: gateway.fetch_account(), lambda: gateway.find_number("+16175550100"),
         lambda: gateway.update_number("PN" + "0" * 32, {"sms_url": "https://x.test/sms"})]
failures = []
for call in calls:
    try:
        call()
    except TwilioSendError as error:
        failures.append(type(error).__name__)
print(json.dumps({"failures": failures, "loaded": sorted({m for m in sys.modules
                  if m.startswith(("twilio.rest.api", "twilio.rest.messaging"))})}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["failures"]) == 11  # every call reached the (absent) server and failed as Bling's errors
    assert report["loaded"] == [], f"the resource classes were loaded: {report['loaded'][:5]} …"
