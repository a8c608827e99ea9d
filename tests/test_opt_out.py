"""STOP and START: the opt_out plugin records them, notes them, and Bling texts nobody opted out."""

from __future__ import annotations

import pytest

from bling_local_plugins.sms.opt_outs import classify, hotline_key, normalise_keyword
from bling_local_plugins.sms.state import is_opted_out, opt_out_row
from bling.jobs.worker import drain
from sms_helpers import agent_reply, text, twilio_posts
from support import HOTLINE, MAILBOX_ID, SUPPORTER, plugin_module

HOTLINE_KEY = f"twilio:{HOTLINE}"


@pytest.mark.parametrize("body, expected", [
    ("STOP", "stop"), ("stop", "stop"), ("  Stop  ", "stop"), ("sToP\n", "stop"), ("\tSTOPALL ", "stop"),
    ("unsubscribe", "stop"), ("Cancel", "stop"), ("end", "stop"), ("QUIT", "stop"), ("Revoke", "stop"), ("optout", "stop"),
    ("ＳＴＯＰ", "stop"),            # full-width letters (NFKC)
    ("S\u200bTOP", "stop"),          # a zero-width space inside
    ("\ufeffstop", "stop"),          # a byte-order mark in front
    ("START", "start"), (" yes ", "start"), ("Unstop", "start"), ("ｓｔａｒｔ", "start"),
    ("HELP", "help"), ("info", "help"),
    ("Stop please", None), ("STOP!", None), ("Yes!", None), ("S T O P", None), ("stopped", None), ("", None),
    ("Hi, I need help", None),
])
def test_keywords_match_like_twilio(body, expected):
    assert classify(body) == expected


def test_twilio_opt_out_type_wins_over_the_body():
    assert classify("ARRET", "STOP") == "stop"       # an Advanced Opt-Out custom keyword
    assert classify("STOP", "HELP") == "help"
    assert classify("hello", "start") == "start"
    assert normalise_keyword("  ｓｔｏｐ \u200b ") == "STOP"


@pytest.mark.vcr
@pytest.mark.bling_config('[mailboxes.206906]\nhours = ["mon 09:00-10:00"]\n')
def test_opt_out_then_text_again_then_opt_back_in(client, services, vcr):
    """STOP: noted, nothing is texted (not even the after-hours reply, nor an agent's reply); START undoes it."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)

    text(client, " Stop ", 1)
    assert drain(services) == {"done": 1}
    assert is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    assert twilio_posts(vcr) == []  # outside hours, but no after-hours reply to someone who opted out

    text(client, "hello? are you there", 2)
    assert drain(services) == {"done": 1}
    assert twilio_posts(vcr) == []
    row = services.store.rows()[0]
    assert "opted out" in row["result"]  # after_hours_error says why

    agent_reply(client, thread_id=90003)
    assert drain(services) == {"done": 1}
    assert twilio_posts(vcr) == []  # the agent's reply was not sent; the note (cassette) says why

    text(client, "ｓｔａｒｔ", 3)
    assert drain(services) == {"done": 1}
    assert not is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    assert opt_out_row(services.store, HOTLINE_KEY, SUPPORTER)["source"] == "START"

    agent_reply(client, thread_id=90004, createdAt="2026-11-25T12:05:00Z")
    assert drain(services) == {"done": 1}
    bodies = [r.body.decode() if isinstance(r.body, bytes) else r.body for r in twilio_posts(vcr)]
    assert len(bodies) == 2  # the after-hours reply (back in, still outside hours), then the agent's reply
    assert "closed+right+now" in bodies[0] and "Thanks+%26+bye" in bodies[1]
    assert vcr.all_played


@pytest.mark.vcr
def test_first_text_stop_gets_no_auto_reply(client, services, vcr):
    text(client, "STOP", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played and twilio_posts(vcr) == []  # the conversation and the note only
    assert is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    (row,) = services.store.rows()
    assert '"opt_out": "stop"' in row["result"] and "opted out" in row["result"]


@pytest.mark.vcr
def test_twilio_opt_out_type_and_help(client, services, vcr):
    """OptOutType=STOP with a custom keyword opts out; HELP is an ordinary text."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    text(client, "HELP", 1, OptOutType="HELP")
    assert drain(services) == {"done": 1}
    assert opt_out_row(services.store, HOTLINE_KEY, SUPPORTER) is None
    text(client, "ARRET", 2, OptOutType="STOP")
    assert drain(services) == {"done": 1}
    assert is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    assert vcr.all_played  # two threads, one note (for ARRET)


@pytest.mark.vcr
def test_twilio_21610_is_recorded_and_later_texts_are_not_attempted(client, services, vcr):
    """Twilio refuses the auto-reply with 21610: recorded with a note; the agent's reply is then not sent."""
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    row = opt_out_row(services.store, HOTLINE_KEY, SUPPORTER)
    assert row["opted_out"] and row["source"] == "twilio-21610"
    agent_reply(client, thread_id=90003)
    assert drain(services) == {"done": 1}
    assert len(twilio_posts(vcr)) == 1  # only the refused auto-reply ever reached Twilio
    assert vcr.all_played


def test_opted_out_refusal_is_permanent_and_explained(services):
    from bling_local_plugins.sms.opt_outs import OptedOut
    from bling.errors import TransportError

    error = OptedOut(SUPPORTER, services.store.clock())
    assert isinstance(error, TransportError) and error.permanent and error.code == 21610
    assert "opted out of texts from this hotline on 2026-11-25" in error.explanation
    assert hotline_key(services.settings.mailbox_by_id(MAILBOX_ID)) == HOTLINE_KEY


def test_keywords_that_say_when_they_were_sent_apply_in_the_order_sent(services):
    """Mobile Commons events carry ``received_at``: a batch applies in order, a back-filled older one is history."""
    from bling.context import Context
    from bling.config.mailboxes import Mailbox

    plugin = plugin_module("opt_out")
    mailbox = Mailbox("mobilecommons", "189358", MAILBOX_ID, kind="id")

    def sent(body: str, when: str) -> str | None:
        context = Context(settings=services.settings, route=None, services=services, mailbox=mailbox)
        return plugin.handle_event(context, {"from_": SUPPORTER, "body": body, "received_at": when})

    assert sent("STOP", "2026-11-25T11:05:00+00:00") == "stop"
    assert sent("START", "2026-11-25T11:06:00+00:00") == "start"  # the next message of the same batch
    assert sent("START", "2026-11-25T11:06:00+00:00") == "start"  # a retry of it: not older, so it still counts
    assert sent("STOP", "2026-11-20T09:00:00+00:00") is None      # a back-fill of last week: changes nothing
    row = opt_out_row(services.store, "mobilecommons:189358", SUPPORTER)
    assert row["opted_out"] is False and row["source"] == "START"
    assert plugin.hotline_name(mailbox) == "mobilecommons:189358"


def test_a_stop_that_never_reached_help_scout_still_counts(services):
    """handle_failure: the job died (Help Scout down), but STOP and START still apply; other texts change nothing.

    Planted bug: opt_out's handle_failure does nothing (a supporter who texted STOP keeps getting texts).
    """
    from bling.context import Context
    from bling.clients.helpscout import HelpScoutTransient

    plugin = plugin_module("opt_out")
    context = Context(settings=services.settings, route=None, services=services,
                      mailbox=services.settings.mailbox_by_id(MAILBOX_ID))
    down = HelpScoutTransient("Help Scout answered 503")
    plugin.handle_failure(context, {"from_": SUPPORTER, "body": "STOP"}, down)
    assert is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    plugin.handle_failure(context, {"from_": SUPPORTER, "body": "Hello?"}, down)
    assert is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
    plugin.handle_failure(context, {"from_": SUPPORTER, "body": "START"}, down)
    assert not is_opted_out(services.store, HOTLINE_KEY, SUPPORTER)
