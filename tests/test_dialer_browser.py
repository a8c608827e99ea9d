"""End to end in a real browser: the widget's link, the dialer page, the call Bling places.

Playwright for Python drives Debian's Chromium (tests/browser.py; no browser
is ever downloaded). Bling runs in a background thread on the stdlib's
wsgiref server; Chromium resolves the public host ``dialer.example.com`` to
it. Twilio's progress callbacks are signed and sent as Twilio would; the
Twilio and Help Scout calls replay from a cassette that matches on the body,
so the test passes only if Bling asked Twilio for exactly that call.

Without Chromium the test is skipped on a local run and fails under CI
(tests/ci_rule.py): CI installs the ``chromium`` package (.ci/run).
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

import falcon
import pytest

from bling.edge.app import create_app
from bling_local_plugins.dialer.call_log import DialerCalls
from bling.jobs.worker import drain
from browser import CHROMIUM_ARGS, SCREENSHOTS, chromium_or_skip
from dialer_support import AGENT, AGENT_SID, APP_SECRET, app_payload, dialer_env
from support import HOTLINE, SUPPORTER, load_form, post_helpscout, twilio_signature

HOST = "dialer.example.com"
PUBLIC = f"http://{HOST}"


@pytest.fixture
def store_url(tmp_path):
    """One engine is enough here: the store tests cover PostgreSQL."""
    return f"sqlite:///{tmp_path / 'bling.db'}"


@pytest.fixture
def env(store_url):
    return dialer_env(store_url, BLING_PUBLIC_URL=PUBLIC)


@pytest.fixture
def chromium():
    """The path of Debian's Chromium (skipped locally, failed under CI, when missing)."""
    return chromium_or_skip()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def server(services):
    """Bling on a free port in a background thread; returns the port."""
    httpd = make_server("127.0.0.1", 0, create_app(services), handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="bling-test-server", daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def twilio_says(client, path: str, call_id: str, fixture: str, leg: str | None = None, **fields: str):
    """A request signed by Twilio for Bling's public URL, about one call."""
    query = urlencode([("call", call_id)] + ([("leg", leg)] if leg else []))
    pairs = load_form(fixture, **fields)
    signature = twilio_signature(f"{PUBLIC}{path}?{query}", pairs)
    resp = client.simulate_post(path, body=urlencode(pairs), query_string=query, content_type=falcon.MEDIA_URLENCODED,
                                headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200, resp.text
    return resp


@pytest.mark.vcr
def test_agent_dials_from_the_widget_link(client, services, server, chromium, vcr):
    from playwright.sync_api import expect, sync_playwright

    widget = post_helpscout(client, "/bling/helpscout_app", app_payload(), event=None, secret=APP_SECRET)
    link = re.search(r'<a href="([^"]+)">Call back</a>', widget.json["html"]).group(1).replace("&amp;", "&")
    assert link.startswith(f"{PUBLIC}/bling/dialer?t=")
    SCREENSHOTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS + [f"--host-resolver-rules=MAP {HOST} 127.0.0.1:{server}"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 760})  # a phone's screen
            page.goto(link)
            expect(page.get_by_role("heading", name="Call back")).to_be_visible()
            expect(page.locator("#supporter")).to_have_text("(617) 555-0123")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll

            phone = page.get_by_label("Your phone number")
            phone.fill("+1 617 555 0199")
            page.reload()
            expect(phone).to_have_value("+1 617 555 0199")  # remembered in this browser

            status = page.get_by_role("status")
            page.get_by_role("button", name="Dial").click()
            expect(status).to_have_text("Calling you…")
            cancel = page.get_by_role("button", name="Cancel call")
            expect(cancel).to_be_visible()
            expect(page.get_by_role("button", name="Dial")).to_be_disabled()

            (call,) = _calls(services)
            twilio_says(client, "/bling/dialer/call_status", call["id"], "dialer_agent_status", "agent",
                        CallStatus="ringing")
            expect(status).to_have_text("Calling you… your phone should be ringing.")
            twilio_says(client, "/bling/dialer/call_status", call["id"], "dialer_agent_status", "agent",
                        CallStatus="in-progress")
            twiml = twilio_says(client, "/bling/dialer/answer", call["id"], "dialer_answer").text
            assert "Press any key to be connected to 6 1 7, 5 5 5, 0 1 2 3." in twiml
            expect(status).to_have_text("Answer, then press any key to be connected to (617) 555-0123.")
            twiml = twilio_says(client, "/bling/dialer/connect", call["id"], "dialer_gather").text
            assert f'<Dial callerId="{HOTLINE}"' in twiml and f">{SUPPORTER}</Number>" in twiml
            expect(status).to_have_text("Connecting you to (617) 555-0123…")
            twilio_says(client, "/bling/dialer/call_status", call["id"], "dialer_supporter_status", "supporter",
                        CallStatus="in-progress")
            expect(status).to_have_text("Connected to (617) 555-0123.")
            page.screenshot(path=str(SCREENSHOTS / "dialer_connected.png"), full_page=True)

            twilio_says(client, "/bling/dialer/call_status", call["id"], "dialer_supporter_status", "supporter",
                        CallStatus="completed", CallDuration="42")
            twilio_says(client, "/bling/dialer/call_status", call["id"], "dialer_agent_status", "agent",
                        CallStatus="completed", CallDuration="50")
            expect(status).to_have_text("Call ended after 42 s.")
            expect(cancel).to_be_hidden()
            expect(page.get_by_role("button", name="Dial")).to_be_enabled()
            page.screenshot(path=str(SCREENSHOTS / "dialer_ended.png"), full_page=True)
        finally:
            browser.close()

    drain(services)  # the note
    assert vcr.all_played
    asked = parse_qs(next(r for r in vcr.played_requests if r.path.endswith("/Calls.json")).body.decode())
    assert asked["To"] == [AGENT] and asked["From"] == [HOTLINE]
    assert asked["Url"] == [f"{PUBLIC}/bling/dialer/answer?call={call['id']}"]
    ended = DialerCalls(services.store).get(call["id"])
    assert (ended["agent_sid"], ended["agent_status"], ended["supporter_status"], ended["supporter_duration"]) == \
        (AGENT_SID, "completed", "completed", 42)
    assert ended["note_inbox_id"] is not None
    assert (SCREENSHOTS / "dialer_ended.png").stat().st_size > 1000


def _calls(services) -> list[dict]:
    import sqlalchemy as sa

    from bling_local_plugins.dialer.tables import dialer_calls

    return services.store.all(sa.select(dialer_calls))
