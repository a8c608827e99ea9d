"""Delivery status: every text asks for a callback; a failed one becomes one note (plugin delivery_status)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from bling.cli.main import main
from bling_local_plugins.sms.delivery import status_callback_url
from bling_local_plugins.sms.state import is_opted_out, recent_messages, sent_message
from bling.jobs.worker import drain
from sms_helpers import agent_reply, twilio_posts
from support import HOTLINE, MAILBOX_ID, SUPPORTER, load_form, post_twilio

STATUS = "/bling/twilio_sms_status"
SENT_1 = "SM0000000000000000000000000000f001"
SENT_2 = "SM0000000000000000000000000000f002"



def status(client, fixture="sms_status_delivered", expect=200, **overrides):
    resp = post_twilio(client, STATUS, load_form(fixture, **overrides))
    assert resp.status_code == expect, resp.text
    if expect == 200:
        assert resp.headers["content-type"].startswith("text/xml") and "<Response" in resp.text
    return resp


def failed(client, sid, message_status="undelivered", code="30003"):
    return status(client, "sms_status_undelivered", MessageSid=sid, SmsSid=sid, MessageStatus=message_status,
                  SmsStatus=message_status, ErrorCode=code)


@pytest.mark.vcr
def test_failed_text_adds_one_note_and_delivered_adds_none(client, services, vcr, env, clock):
    agent_reply(client, thread_id=90003)
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert b"StatusCallback=https%3A%2F%2Fhotline.example.com%2Fbling%2Ftwilio_sms_status" in sent.body
    assert sent_message(services.store, SENT_1)["conversation_id"] == 5001

    status(client, MessageStatus="sent", SmsStatus="sent")
    status(client)  # delivered
    assert drain(services) == {"done": 2}
    assert sent_message(services.store, SENT_1)["status"] == "delivered"

    clock.advance(300)
    agent_reply(client, thread_id=90004, body="<div>Are you still there?</div>", createdAt="2026-11-25T12:05:00Z")
    assert drain(services) == {"done": 1}
    failed(client, SENT_2)
    assert drain(services) == {"done": 1}  # the note (cassette: its exact words)
    failed(client, SENT_2)  # Twilio repeats itself: the same key, ignored
    failed(client, SENT_2, "failed")  # another failure of the same text: no second note
    status(client, MessageSid=SENT_2, SmsSid=SENT_2, MessageStatus="sent", SmsStatus="sent")  # late: never goes back
    assert drain(services) == {"done": 2}
    row = sent_message(services.store, SENT_2)
    assert (row["status"], row["error_code"], row["noted"]) == ("failed", 30003, True)
    assert vcr.all_played

    result = CliRunner().invoke(main, ["sms", "status"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert SENT_2 in lines[0] and "failed" in lines[0] and "error 30003" in lines[0] and "conversation 5001" in lines[0]
    assert SENT_1 in lines[1] and "delivered" in lines[1]
    failed_only = CliRunner().invoke(main, ["sms", "status", "--failed"], env=env)
    assert SENT_1 not in failed_only.output and SENT_2 in failed_only.output


@pytest.mark.vcr
def test_unrecorded_text_falls_back_to_the_supporters_conversation(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    failed(client, "SM0000000000000000000000000000f0aa", code="30006")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one note on 7001
    assert sent_message(services.store, "SM0000000000000000000000000000f0aa")["conversation_id"] == 7001


@pytest.mark.vcr
def test_failure_with_21610_records_the_opt_out(client, services, vcr, env):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    failed(client, "SM0000000000000000000000000000f0bb", "failed", code="21610")
    assert drain(services) == {"done": 1}
    assert is_opted_out(services.store, f"twilio:{HOTLINE}", SUPPORTER)
    assert vcr.all_played
    result = CliRunner().invoke(main, ["sms", "opt-outs"], env=env)
    assert f"twilio:{HOTLINE}" in result.output and SUPPORTER in result.output and "twilio-21610" in result.output


def test_forged_or_intermediate_callbacks_store_nothing(client, services):
    resp = post_twilio(client, STATUS, load_form("sms_status_delivered"), signature="bm90IGEgc2lnbmF0dXJl")
    assert resp.status_code == 403
    status(client, MessageStatus="sending", SmsStatus="sending")
    assert services.store.rows() == [] and recent_messages(services.store) == []


def test_malformed_callback_is_422_naming_the_field(client, services):
    resp = post_twilio(client, STATUS, load_form("sms_status_delivered", MessageStatus=None))
    assert resp.status_code == 422 and "MessageStatus" in resp.text


def test_callback_url_needs_the_public_url_and_the_route(services):
    context = SimpleNamespace(settings=services.settings, services=services)
    assert status_callback_url(context) == "https://hotline.example.com/bling/twilio_sms_status"
    no_url = SimpleNamespace(settings=SimpleNamespace(public_base=lambda: ""), services=services)
    assert status_callback_url(no_url) is None
    no_route = SimpleNamespace(settings=services.settings, services=SimpleNamespace(chains=[]))
    assert status_callback_url(no_route) is None
