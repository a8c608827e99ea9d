"""WhatsApp delivery status (plugin whatsapp_status, before delivery_status on the status route).

Status callbacks of WhatsApp messages come to the SMS status route with ``whatsapp:`` addresses:
``read`` is recorded like ``delivered`` (no note); a failure is one note, and 63016 (outside the
24-hour window) says when the window closed and what to do, and marks the window closed.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bling.cli.main import main
from bling.jobs.worker import drain
from bling_local_plugins.sms.state import record_sent, sent_message
from bling_local_plugins.whatsapp.window import record_inbound, window
from support import HOTLINE, MAILBOX_ID, SUPPORTER, load_form, post_twilio
from whatsapp_helpers import HOUR, STATUS, WITH_TEMPLATE, env  # noqa: F401  (env: the fixture)

SID = "SM3333333333333333333333333333a001"


def status(client, fixture, **overrides):
    resp = post_twilio(client, STATUS, load_form(fixture, **overrides))
    assert resp.status_code == 200, resp.text


def sent_on_whatsapp(services, clock):
    """Bling sent "Hi there" on WhatsApp into conversation 5001 while it counted the window open."""
    record_inbound(services.store, HOTLINE, SUPPORTER, clock() - 2 * HOUR)
    record_sent(services.store, SID, MAILBOX_ID, SUPPORTER, 5001, "Hi there")


@pytest.mark.vcr
def test_63016_in_the_callback_is_one_plain_note_and_closes_the_window(client, services, clock, vcr):
    sent_on_whatsapp(services, clock)
    status(client, "whatsapp_status_undelivered")
    status(client, "whatsapp_status_undelivered", MessageStatus="failed", SmsStatus="failed")  # the same failure again
    assert drain(services) == {"done": 2}
    assert vcr.all_played  # one note, its exact words in the cassette
    row = sent_message(services.store, SID)
    assert (row["status"], row["error_code"], row["noted"]) == ("failed", 63016, True)  # one note for both
    assert not window(services.store, HOTLINE, SUPPORTER).open  # Twilio is believed: the next reply is a template
    record_inbound(services.store, HOTLINE, SUPPORTER, clock())  # until they write again
    assert window(services.store, HOTLINE, SUPPORTER).open


@pytest.mark.vcr
@pytest.mark.bling_config(WITH_TEMPLATE)
def test_with_a_template_the_note_says_replies_go_as_the_template(client, services, clock, vcr):
    sent_on_whatsapp(services, clock)
    status(client, "whatsapp_status_undelivered", MessageStatus="failed", SmsStatus="failed")
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_other_whatsapp_failures_are_noted_in_plain_words_without_the_window(client, services, clock, vcr):
    sent_on_whatsapp(services, clock)
    status(client, "whatsapp_status_undelivered", ErrorCode="63014")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # "…has blocked the hotline on WhatsApp (Twilio error 63014, undelivered)."
    assert window(services.store, HOTLINE, SUPPORTER).open  # a block says nothing about the window


def test_read_is_recorded_without_a_note_and_never_goes_back(client, services, clock, env):
    """No cassette: any request to Help Scout would fail the test."""
    sent_on_whatsapp(services, clock)
    status(client, "whatsapp_status_read", MessageStatus="delivered", SmsStatus="delivered", EventType="DELIVERED")
    status(client, "whatsapp_status_read")
    status(client, "whatsapp_status_read", MessageStatus="sent", SmsStatus="sent", EventType=None)  # late
    assert drain(services) == {"done": 3}
    assert sent_message(services.store, SID)["status"] == "read"
    result = CliRunner().invoke(main, ["sms", "status"], env=env)
    assert result.exit_code == 0 and SID in result.output and "read" in result.output, result.output


def test_sms_failures_are_left_to_delivery_status(settings, services):
    from types import SimpleNamespace

    from support import plugin_module

    step = plugin_module("whatsapp_status")
    context = SimpleNamespace(mailbox=settings.mailbox_for("twilio", HOTLINE), store=services.store, state={},
                              settings=settings)
    event = {"message_status": "undelivered", "error_code": 63016, "to": SUPPORTER}
    assert step.handle_event(context, event) is None and context.state == {}
