"""Agents' replies on WhatsApp (plugin whatsapp_transport, through agent_reply).

The reply goes on the channel the supporter last wrote on; inside the 24-hour window it is
free-form, outside it the mailbox's template or, without one, nothing and a note saying why.
"""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from bling.jobs.worker import drain
from bling.store.supporters import remember_channel
from bling_local_plugins.sms.state import is_opted_out, sent_message
from bling_local_plugins.whatsapp.window import record_inbound, window
from sms_helpers import agent_reply, twilio_posts
from support import HOTLINE, MAILBOX_ID, SUPPORTER, plugin_module
from whatsapp_helpers import HOUR, TEMPLATE, WITH_TEMPLATE, env, wa_mailbox, whatsapp  # noqa: F401  (env: the fixture)


@pytest.fixture
def plugin():
    return plugin_module("whatsapp_transport")


def last_wrote_on_whatsapp(services, clock, hours_ago: float):
    """The supporter's conversation is 5001 and their last message was on WhatsApp ``hours_ago``."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 5001, 3)
    remember_channel(services.store, MAILBOX_ID, SUPPORTER, "whatsapp", HOTLINE, clock() - hours_ago * HOUR)
    record_inbound(services.store, HOTLINE, SUPPORTER, clock() - hours_ago * HOUR)


@pytest.mark.vcr
def test_inside_the_window_the_reply_goes_free_form_on_whatsapp(client, services, clock, vcr):
    last_wrote_on_whatsapp(services, clock, 3)
    before = window(services.store, HOTLINE, SUPPORTER)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert b"From=whatsapp%3A%2B16175550100" in sent.body and b"To=whatsapp%3A%2B16175550123" in sent.body
    assert b"StatusCallback=https%3A%2F%2Fhotline.example.com%2Fbling%2Ftwilio_sms_status" in sent.body
    assert vcr.all_played  # and the note "Bling sent this reply on WhatsApp to (617) 555-0123."
    assert sent_message(services.store, "SM4444444444444444444444444444b001")["conversation_id"] == 5001
    assert window(services.store, HOTLINE, SUPPORTER) == before  # Bling's own message never extends it


@pytest.mark.vcr
def test_the_reply_follows_the_channel_the_supporter_last_wrote_on(client, services, clock, vcr):
    """An SMS first (they last texted), then WhatsApp once they wrote there: one hotline, one mailbox."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 5001, 3)
    record_inbound(services.store, HOTLINE, SUPPORTER, clock() - 5 * HOUR)
    remember_channel(services.store, MAILBOX_ID, SUPPORTER, "twilio", HOTLINE, clock() - HOUR)
    agent_reply(client, thread_id=90003)
    assert drain(services) == {"done": 1}
    remember_channel(services.store, MAILBOX_ID, SUPPORTER, "whatsapp", HOTLINE, clock() - 6 * HOUR)  # older: ignored
    clock.advance(60)
    remember_channel(services.store, MAILBOX_ID, SUPPORTER, "whatsapp", HOTLINE, clock())
    agent_reply(client, thread_id=90004, createdAt="2026-11-25T12:01:00Z")
    assert drain(services) == {"done": 1}
    first, second = twilio_posts(vcr)
    assert b"From=%2B16175550100" in first.body and b"From=whatsapp%3A%2B16175550100" in second.body
    assert vcr.all_played  # "as an SMS", then "on WhatsApp"


@pytest.mark.vcr
@pytest.mark.bling_config(WITH_TEMPLATE)
def test_outside_the_window_the_template_carries_the_reply(client, services, clock, vcr):
    last_wrote_on_whatsapp(services, clock, 25)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert f"ContentSid={TEMPLATE}".encode() in sent.body and b"Body=" not in sent.body
    assert vcr.all_played  # ContentVariables {"1": the reply}; the note says it went as the template and why


@pytest.mark.vcr
def test_outside_the_window_without_a_template_nothing_is_sent_and_the_note_says_why(client, services, clock, vcr):
    last_wrote_on_whatsapp(services, clock, 25)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    assert twilio_posts(vcr) == []
    assert vcr.all_played  # the note: the window, when it closed, no template configured


@pytest.mark.vcr
def test_twilio_refusing_at_once_with_63016_is_believed(client, services, clock, vcr):
    """Bling counted the window open; Twilio answers 400 with 63016: no retry, a note, the window closed."""
    last_wrote_on_whatsapp(services, clock, 2)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    assert len(twilio_posts(vcr)) == 1
    assert vcr.all_played
    assert not window(services.store, HOTLINE, SUPPORTER).open


@pytest.mark.vcr
@pytest.mark.bling_config(WITH_TEMPLATE)
def test_twilio_refusing_at_once_with_a_template_configured_sends_the_template(client, services, clock, vcr):
    last_wrote_on_whatsapp(services, clock, 2)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    free_form, template = twilio_posts(vcr)
    assert b"Body=" in free_form.body and f"ContentSid={TEMPLATE}".encode() in template.body
    assert vcr.all_played


@pytest.mark.vcr
def test_a_whatsapp_stop_stops_whatsapp_and_not_sms(client, services, clock, settings, vcr):
    """Twilio does not act on STOP on WhatsApp: Bling records it for the WhatsApp hotline and refuses to send."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 5001, 3)
    whatsapp(client, "STOP")
    assert drain(services) == {"done": 1}
    assert is_opted_out(services.store, f"whatsapp:{HOTLINE}", SUPPORTER)
    assert not is_opted_out(services.store, f"twilio:{HOTLINE}", SUPPORTER)
    agent_reply(client)
    assert drain(services) == {"done": 1}
    assert twilio_posts(vcr) == []
    assert vcr.all_played  # the thread, the opt-out note, the reply's note: not sent, opted out on WhatsApp


def test_other_transports_are_left_alone(plugin, settings):
    context = SimpleNamespace(twilio=None)
    for mailbox in (None, settings.mailbox_for("twilio", HOTLINE)):
        assert plugin.transport_send_sms(context, mailbox, SUPPORTER, "hi", []) is None
        assert plugin.transport_find_sms(context, mailbox, SUPPORTER, "hi", 0.0) is None


class FakeGateway:
    def __init__(self):
        self.looked = []

    def find_sent_message(self, from_, to, body, since):
        self.looked.append((from_, to, body, since))
        return "SM1"


def test_find_matches_the_body_in_the_window_and_any_message_outside(plugin, settings, services, clock):
    """After an ambiguous send: a free-form message is found by its text; a template's text is Twilio's, so any."""
    gateway, mailbox = FakeGateway(), wa_mailbox(settings)
    context = SimpleNamespace(twilio=gateway, store=services.store)
    assert plugin.transport_find_sms(context, mailbox, SUPPORTER, "hi", clock()) == ["SM1"]  # window closed
    record_inbound(services.store, HOTLINE, SUPPORTER, clock())
    assert plugin.transport_find_sms(context, mailbox, SUPPORTER, "hi", clock()) == ["SM1"]
    when = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    assert gateway.looked == [("whatsapp:+16175550100", "whatsapp:+16175550123", None, when),
                              ("whatsapp:+16175550100", "whatsapp:+16175550123", "hi", when)]


@pytest.mark.parametrize("body,expected", [
    ("Thanks!", "Thanks!"),
    ("", "We have replied to your message. Please write back to continue the conversation."),
    ("   ", "We have replied to your message. Please write back to continue the conversation."),
    ("x" * 1500, "x" * 1023 + "…"),
    ("y" * 1024, "y" * 1024),
])
def test_the_template_variable_is_never_empty_nor_over_1024(plugin, body, expected):
    assert plugin.template_variable(body) == expected
