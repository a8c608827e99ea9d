"""The 24-hour WhatsApp window (plugin whatsapp_session): only the supporter's messages open or extend it."""

from __future__ import annotations

import pytest

from bling.jobs.worker import drain
from bling_local_plugins.whatsapp.window import record_inbound, window
from support import HOTLINE, MAILBOX_ID, SUPPORTER
from whatsapp_helpers import HOUR, env, whatsapp  # noqa: F401  (env: the fixture)

DAY = 24 * HOUR  # Twilio: "lasts for 24 hours from the most recently received message"


@pytest.mark.vcr
def test_each_message_opens_the_window_for_24_hours_from_when_it_arrived(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    assert not window(services.store, HOTLINE, SUPPORTER).open  # never wrote on WhatsApp
    whatsapp(client, "first", 1)
    clock.advance(2 * HOUR)  # the worker gets to it late: the window still starts when it arrived
    assert drain(services) == {"done": 1}
    state = window(services.store, HOTLINE, SUPPORTER)
    assert state.open and state.closes_at == clock.START + DAY
    assert services.store.rows()[0]["result"] and "whatsapp_window_closes_at" in services.store.rows()[0]["result"]

    clock.advance(3 * HOUR)
    whatsapp(client, "second", 2)
    assert drain(services) == {"done": 1}
    assert window(services.store, HOTLINE, SUPPORTER).closes_at == clock.START + 5 * HOUR + DAY
    assert vcr.all_played  # two threads on 7001

    clock.advance(DAY - 1)
    assert window(services.store, HOTLINE, SUPPORTER).open
    clock.advance(1)
    assert not window(services.store, HOTLINE, SUPPORTER).open  # 24 hours after the last one, to the second


def test_an_older_message_never_shortens_the_window(services, clock):
    record_inbound(services.store, HOTLINE, SUPPORTER, clock() - HOUR)
    record_inbound(services.store, HOTLINE, SUPPORTER, clock() - 20 * HOUR)  # a retried or late job
    assert window(services.store, HOTLINE, SUPPORTER).closes_at == clock() - HOUR + DAY


def test_the_window_is_per_hotline_and_supporter(services, clock):
    record_inbound(services.store, HOTLINE, SUPPORTER, clock())
    assert not window(services.store, "+16175550101", SUPPORTER).open
    assert not window(services.store, HOTLINE, "+16175550124").open


def test_sms_events_leave_the_window_alone(services, settings):
    """The step is in the WhatsApp chain only, but it refuses any other mailbox too."""
    from types import SimpleNamespace

    from support import plugin_module

    step = plugin_module("whatsapp_session")
    context = SimpleNamespace(mailbox=settings.mailbox_for("twilio", HOTLINE), store=services.store, inbox_id=None, state={})
    assert step.handle_event(context, {"from_": SUPPORTER}) is None
    assert window(services.store, HOTLINE, SUPPORTER).last_inbound_at is None and context.state == {}
