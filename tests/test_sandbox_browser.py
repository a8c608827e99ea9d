"""The sandbox page in a real browser: a supporter texts, the conversation appears, an agent replies.

Bling runs as in ``bling serve --sandbox`` (stand-ins, provisioning, a worker
thread) on a loopback port; Debian's Chromium (tests/browser.py) clicks
through /sandbox like a person would, and screenshots land in
tests/screenshots/.
"""

from __future__ import annotations

import pytest

from bling_fakes.sandbox.config import HOTLINES
from browser import browser, screenshot
from sandbox_support import running_sandbox

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

SUPPORTER = "+16175550123"
HOTLINE = HOTLINES[0][0]


def test_a_text_from_the_sandbox_page_becomes_a_conversation_and_a_reply_comes_back(tmp_path):
    from playwright.sync_api import expect

    with running_sandbox(tmp_path) as sandbox, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{sandbox.url}/sandbox")
        expect(page.get_by_test_id("sandbox-banner")).to_contain_text("SANDBOX")
        expect(page.get_by_role("heading", name="Boston hotline (sandbox)")).to_be_visible()

        page.get_by_test_id(f"hotline-{SUPPORTER}").select_option(HOTLINE)
        page.get_by_test_id(f"text-{SUPPORTER}").fill("Where is my polling place?")
        page.get_by_test_id(f"send-{SUPPORTER}").click()

        bubbles = page.get_by_test_id(f"bubbles-{SUPPORTER}")
        expect(bubbles).to_contain_text("Where is my polling place?")
        expect(bubbles).to_contain_text("We've received your message", timeout=15000)  # the auto-reply
        conversation = page.get_by_test_id("conversation-1")
        expect(conversation).to_contain_text("SMS from (617) 555-0123", timeout=15000)
        conversation.click()
        expect(page.locator(".thread.customer")).to_contain_text("Where is my polling place?")
        screenshot(page, "sandbox_conversation")

        page.get_by_test_id("reply-text").fill("It's the public library on Main St.")
        page.get_by_test_id("reply-send").click()
        expect(bubbles).to_contain_text("It's the public library on Main St.", timeout=15000)
        expect(page.locator(".thread.note")).to_contain_text("Bling sent this reply as an SMS", timeout=15000)
        path = screenshot(page, "sandbox_reply")
        assert path.stat().st_size > 10000


def test_call_back_from_the_sidebar_app_rings_the_agent_and_notes_the_call(tmp_path):
    from playwright.sync_api import expect

    with running_sandbox(tmp_path) as sandbox:
        if not sandbox.settings.helpscout_app_secret or "/bling/helpscout_app" not in _paths(sandbox):
            pytest.skip("the sidebar app (Call back) is not in routes.toml")
        with browser() as chromium:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{sandbox.url}/sandbox")
            page.get_by_test_id(f"text-{SUPPORTER}").fill("Please call me")
            page.get_by_test_id(f"send-{SUPPORTER}").click()
            page.get_by_test_id("conversation-1").click(timeout=15000)
            page.get_by_role("button", name="Show the sidebar app (Call back)").click()
            with page.expect_popup() as opened:
                page.frame_locator("iframe.sidebar").get_by_text("Call back").click()
            dialer = opened.value
            dialer.get_by_label("Your phone number").fill(HOTLINES[0][3][0])  # a sandbox agent phone
            dialer.get_by_role("button", name="Dial").click()
            expect(dialer.get_by_role("status")).to_have_text("Call ended after 5 s.", timeout=30000)
            screenshot(dialer, "sandbox_dialer")
            expect(page.locator(".thread.note")).to_contain_text("called (617) 555-0123 back", timeout=15000)
            expect(page.locator("#agents")).to_contain_text("completed")
            screenshot(page, "sandbox_call_back")


def _paths(sandbox) -> set[str]:
    from bling.ops.provision import route_table

    return {route.path for route in route_table(sandbox.settings)}


def test_the_whatsapp_phone_writes_to_the_whatsapp_hotline_only(tmp_path):
    """The page's WhatsApp phone (green, *Send on WhatsApp*) offers the WhatsApp hotline; the SMS phones do not."""
    from playwright.sync_api import expect

    from bling_fakes.sandbox.config import SUPPORTERS, WHATSAPP_HOTLINES

    whatsapp = next(p for p in SUPPORTERS if p.startswith("whatsapp:"))
    with running_sandbox(tmp_path) as sandbox, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{sandbox.url}/sandbox")
        expect(page.get_by_test_id(f"send-{whatsapp}")).to_have_text("Send on WhatsApp")
        options = page.get_by_test_id(f"hotline-{whatsapp}").locator("option")
        expect(options).to_have_count(1)
        expect(options.first).to_have_attribute("value", f"whatsapp:{WHATSAPP_HOTLINES[0][0]}")
        expect(page.get_by_test_id(f"hotline-{SUPPORTER}").locator("option")).to_have_count(len(HOTLINES))
        screenshot(page, "sandbox_whatsapp_phone")
