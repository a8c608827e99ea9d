"""The Twilio transport sends only for twilio: mailboxes, from the hotline number."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from bling.config.mailboxes import Mailbox
from support import plugin_module


@pytest.fixture
def plugin():
    """plugins/sms/twilio_transport.py as Bling has it loaded now (another test may have reloaded it)."""
    return plugin_module("twilio_transport")


class FakeGateway:
    def __init__(self):
        self.sent, self.looked = [], []

    def send_sms(self, **kwargs):
        self.sent.append(kwargs)
        return "SM1"

    def find_sent_message(self, from_, to, body, since):
        self.looked.append((from_, to, body, since))
        return None


def test_sends_from_the_hotline_number(plugin):
    gateway = FakeGateway()
    context = SimpleNamespace(twilio=gateway, settings=SimpleNamespace(public_base=lambda: ""))
    mailbox = Mailbox("twilio", "+16175550100", 1)
    assert plugin.transport_send_sms(context, mailbox, "+16175550123", "hi", []) == "SM1"
    assert gateway.sent == [{"from_": "+16175550100", "to": "+16175550123", "body": "hi", "media_urls": None,
                             "status_callback": None}]  # no BLING_PUBLIC_URL: no status callback


def test_other_transports_are_left_alone(plugin):
    gateway = FakeGateway()
    context = SimpleNamespace(twilio=gateway)
    mailbox = Mailbox("mobilecommons", "12345", 1)
    assert plugin.transport_send_sms(context, mailbox, "+16175550123", "hi", []) is None
    assert plugin.transport_find_sms(context, mailbox, "+16175550123", "hi", 0.0) is None
    assert gateway.sent == [] and gateway.looked == []


def test_find_returns_a_list_and_passes_utc_time(plugin):
    gateway = FakeGateway()
    mailbox = Mailbox("twilio", "+16175550100", 1)
    assert plugin.transport_find_sms(SimpleNamespace(twilio=gateway), mailbox, "+16175550123", "hi", 1795608000.0) == []
    assert gateway.looked[0][3] == datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
