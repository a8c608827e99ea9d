"""The real processes: gunicorn web + job engine workers, on one machine and on several.

One machine: `bling serve` (web and worker in one command, SQLite). Several
machines: `bling serve --no-worker` plus two `bling worker` processes sharing
PostgreSQL. Each run posts signed texts and agent replies over HTTP and waits
for the fake Help Scout and Twilio (bling_fakes/) to hold exactly what they should.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from bling_fakes.helpscout import HelpScoutFake  # noqa: E402
from bling_fakes.state import FakeState  # noqa: E402
from bling_fakes.twilio import TwilioFake  # noqa: E402

from support import ACCOUNT_SID, AUTH_TOKEN, HOTLINE, load_form, make_env, twilio_signature  # noqa: E402

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
BLING = os.path.join(os.path.dirname(sys.executable), "bling")
SUPPORTERS = ["+16175550131", "+16175550132", "+16175550133"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def post_sms(port: int, sender: str, body: str, sid: str, timeout: float = 10) -> int:
    pairs = load_form("sms_basic", From=sender, Body=body, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    url = f"http://127.0.0.1:{port}/bling/twilio_sms"
    request = urllib.request.Request(url, data=urlencode(pairs).encode(), headers={
        "X-Twilio-Signature": twilio_signature(url, pairs), "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        assert response.headers["Content-Type"].startswith("text/xml")
        return response.status


@pytest.fixture
def doubles():
    helpscout = HelpScoutFake(limit_per_minute=400)
    twilio = TwilioFake(FakeState.in_memory(numbers=[HOTLINE]), ACCOUNT_SID, AUTH_TOKEN)
    urls = helpscout.start(), twilio.start()
    yield helpscout, twilio, urls
    helpscout.stop()
    twilio.stop()


def run_processes(commands, env, tmp_path):
    procs = []
    for index, command in enumerate(commands):
        log = open(tmp_path / f"proc{index}.log", "wb")
        procs.append((subprocess.Popen([BLING, *command], env=env, stdout=log, stderr=subprocess.STDOUT), log))
    return procs


def stop_processes(procs, tmp_path):
    for proc, log in procs:
        proc.terminate()
    for proc, log in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.parametrize("layout", ["one machine", "several machines"])
def test_texts_flow_through_real_web_and_worker_processes(layout, doubles, tmp_path, request):
    helpscout, twilio, (helpscout_url, twilio_url) = doubles
    if layout == "one machine":
        store = f"sqlite:///{tmp_path / 'bling.db'}"
    else:
        store = request.getfixturevalue("store_url_postgres")
    port = free_port()
    env = dict(os.environ, **make_env(store, BLING_PUBLIC_URL=f"http://127.0.0.1:{port}",
                                      BLING_HELPSCOUT_API_URL=helpscout_url, BLING_TWILIO_API_URL=twilio_url,
                                      BLING_MAILBOXES=f"twilio:{HOTLINE}:206906", BLING_LOG_LEVEL="INFO"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    web = ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    commands = [web] if layout == "one machine" else [web + ["--no-worker"], ["worker"], ["worker"]]
    procs = run_processes(commands, env, tmp_path)
    try:
        wait_until(lambda: _healthy(port), 30, "the web process")
        sent = 0
        for round_ in range(2):
            for index, supporter in enumerate(SUPPORTERS):
                sid = f"SM{round_}{index}" + "0" * 30
                assert post_sms(port, supporter, f"text {round_}-{index}", sid) == 200
                assert post_sms(port, supporter, f"text {round_}-{index}", sid) == 200  # Twilio retried
                sent += 1
        wait_until(lambda: len([t for t in helpscout.all_threads() if t.type == "customer"]) >= sent
                   and len(twilio.sent()) >= len(SUPPORTERS), 60, "the texts in Help Scout")
        time.sleep(1.5)  # anything extra would arrive now
        texts = sorted(t.text for t in helpscout.all_threads() if t.type == "customer")
        assert texts == sorted(f"text {r}-{i}" for r in range(2) for i in range(len(SUPPORTERS)))  # once each
        assert len(helpscout.conversations) == len(SUPPORTERS)  # one conversation per supporter
        assert sorted(m.to for m in twilio.sent()) == sorted(SUPPORTERS)  # one auto-reply each
    finally:
        stop_processes(procs, tmp_path)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


@pytest.fixture
def store_url_postgres(tmp_path):
    from conftest import fresh_postgres, postgres_available

    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable; CI must run this test")
        pytest.skip("PostgreSQL is not reachable")
    return fresh_postgres("serve_processes")
