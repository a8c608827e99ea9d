"""The newcomer's first hour, in a real browser: a fresh serve.sh with no configuration, walked end to end.

Bling starts as `bash scripts/serve.sh` starts it on a fresh machine (tests/fresh_sandbox.py:
no settings at all, so the sandbox). Debian's Chromium (tests/browser.py) then does what a
newcomer does on /sandbox: text the hotline and get the auto-reply; reply as an agent with a
signature (the SMS leaves the signature out, a note says it was sent, the text is delivered);
leave a voicemail (audio attached, transcription posted); Call back through the dialer page;
STOP and START. At the end there is no dead letter and /healthz has no warning. Every step is
screenshotted to tests/screenshots/ at 1,024 and 1,400 px wide, and neither width scrolls
sideways.
"""

from __future__ import annotations

import re

import pytest
import requests

from browser import browser, screenshot
from fresh_sandbox import fresh_serve

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

SUPPORTER = "+16175550123"
WIDTHS = (1024, 1400)
LONG = 20000  # ms: the worker polls, the fake Twilio rings and talks in real time


def step(page, name: str) -> None:
    """Screenshot the page at each width and fail if it is wider than the window."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {width}px window"
        screenshot(page, f"first_hour_{name}_{width}")
    page.set_viewport_size({"width": WIDTHS[-1], "height": 900})


def test_a_fresh_serve_sh_walks_through_every_feature_without_a_dead_letter(tmp_path):
    from playwright.sync_api import expect

    with fresh_serve(tmp_path) as sandbox, browser() as chromium:
        started = sandbox.log.read_text()
        assert "SANDBOX: no Twilio or Help Scout settings found" in started and "To go live" in started
        assert f"export BLING_PUBLIC_URL={sandbox.url}" in (tmp_path / ".bling-sandbox.env").read_text()

        page = chromium.new_page(viewport={"width": 1024, "height": 900})
        page.goto(f"{sandbox.url}/sandbox")
        expect(page.get_by_test_id("sandbox-banner")).to_contain_text("SANDBOX")
        text_box = page.get_by_test_id(f"text-{SUPPORTER}")
        expect(text_box).to_be_visible()
        assert text_box.bounding_box()["y"] + 40 < 900, "the supporters' phones are below the fold at 1,024 px"
        step(page, "1_start")

        # A text, and the first-contact auto-reply.
        bubbles = page.get_by_test_id(f"bubbles-{SUPPORTER}")
        text_box.fill("Where is my polling place?")
        page.get_by_test_id(f"send-{SUPPORTER}").click()
        expect(bubbles).to_contain_text("We've received your message", timeout=LONG)
        conversation = page.get_by_test_id("conversation-1")
        expect(conversation).to_contain_text("1 thread ", timeout=LONG)
        step(page, "2_text_and_auto_reply")

        # An agent replies with a signature: the SMS has no signature, a note says it went, it is delivered.
        conversation.click()
        page.get_by_test_id("reply-text").fill("It's the public library on Main St.\n--\nSam, Hotline team")
        page.get_by_test_id("reply-send").click()
        reply = bubbles.locator(".bubble", has_text="It's the public library on Main St.")
        expect(reply).to_contain_text("delivered", timeout=LONG)
        expect(reply).not_to_contain_text("Sam, Hotline team")
        expect(page.locator(".thread.note", has_text="Bling sent this reply as an SMS").first).to_be_visible(timeout=LONG)
        expect(page.locator(".thread .who").first).to_contain_text("Supporter's text")
        expect(page.locator(".thread.message .who")).to_contain_text("Agent's reply")
        expect(page.locator(".thread .who", has_text=re.compile("user", re.I))).to_have_count(0)
        step(page, "3_agent_reply_sms_and_note")

        # A voicemail: the recording attached, its transcription posted.
        page.get_by_test_id(f"speech-{SUPPORTER}").fill("Please call me back about my ballot")
        page.get_by_test_id(f"call-{SUPPORTER}").click()
        expect(page.get_by_test_id("attachment").first).to_contain_text("audio/", timeout=LONG)
        expect(page.locator(".thread", has_text="Please call me back about my ballot").first).to_be_visible(timeout=LONG)
        expect(page.get_by_test_id(f"bubbles-{SUPPORTER}").locator("xpath=..")).to_contain_text("Call", timeout=LONG)
        step(page, "4_voicemail")

        # Call back: the sidebar app, the dialer page (SANDBOX, which phone to enter), the call, the note.
        expect(page.locator("iframe.sidebar")).to_have_count(0)  # no empty frame before it is asked for
        page.get_by_role("button", name="Show the sidebar app (Call back)").click()
        with page.expect_popup() as opened:
            page.frame_locator("iframe.sidebar").get_by_text("Call back").click()
        dialer = opened.value
        banner = dialer.get_by_test_id("sandbox-banner")
        expect(banner).to_contain_text("SANDBOX")
        agent_phone = banner.locator("code").inner_text()
        dialer.get_by_label("Your phone number").fill(agent_phone)
        dialer.get_by_role("button", name="Dial").click()
        status = dialer.get_by_role("status")
        expect(status).to_have_text("Calling you… your phone should be ringing.", timeout=LONG)  # it rings first
        step(dialer, "5_dialer_ringing")
        expect(status).to_have_text("Connected to (617) 555-0123.", timeout=LONG)  # then they talk a while
        step(dialer, "5_dialer_connected")
        expect(status).to_have_text(re.compile(r"Call ended after \d+ s\."), timeout=LONG)
        step(dialer, "6_dialer_ended")
        expect(page.locator(".thread.note", has_text="called (617) 555-0123 back").first).to_be_visible(timeout=LONG)
        expect(page.locator("#agents")).to_contain_text(f"Bling calls +16175550100 → {agent_phone} · completed",
                                                          timeout=LONG)  # the Call back leg
        expect(page.locator("#agents")).to_contain_text("no-answer")  # the ring group's legs of the voicemail call
        expect(page.get_by_test_id(f"bubbles-{SUPPORTER}").locator("xpath=..")).to_contain_text(
            f"Rings +16175550100 → {SUPPORTER} · completed")  # the supporter's side of the Call back
        step(page, "7_call_back_noted")

        # STOP, then START: notes on the conversation.
        for word, note in (("STOP", "opted out"), ("START", "opted back in")):
            text_box.fill(word)
            page.get_by_test_id(f"send-{SUPPORTER}").click()
            expect(page.locator(".thread.note", has_text=note).first).to_be_visible(timeout=LONG)
        step(page, "8_stop_start")

        state = requests.get(f"{sandbox.url}/sandbox/state", timeout=10).json()
        assert state["jobs"]["dead"] == [], state["jobs"]["dead"]
        health = requests.get(f"{sandbox.url}/healthz", timeout=10).json()
        assert health["warnings"] == [] and health["problems"] == [], health
        expect(page.get_by_test_id("job-counts")).to_contain_text("0 dead letters")
        step(page, "9_jobs")
