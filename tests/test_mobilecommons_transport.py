"""The Mobile Commons transport: agent replies to a mobilecommons: mailbox go out through Mobile Commons.

Mobile Commons interactions in the cassettes are modelled, not recorded.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bling.config.mailboxes import Mailbox
from bling_local_plugins.mobilecommons.client import MobileCommonsRefused
from bling.jobs.worker import drain
from support import HOTLINE, MAILBOX_ID, load_json, make_env, post_helpscout, plugin_module

CAMPAIGN = "189358"
MC_MAILBOX = 206908
HS = "/bling/helpscout_webhook"


@pytest.fixture
def plugin():
    """plugins/mobilecommons/mobilecommons_transport.py as Bling has it loaded now (another test may have reloaded it)."""
    return plugin_module("mobilecommons_transport")



@pytest.fixture
def env(store_url):
    return make_env(store_url, BLING_MAILBOXES=f"twilio:{HOTLINE}:{MAILBOX_ID}, mobilecommons:{CAMPAIGN}:{MC_MAILBOX}",
                    MOBILECOMMONS_USERNAME="bling-test", MOBILECOMMONS_PASSWORD="test-mc-password")


def reply_in_mobilecommons_mailbox(client):
    payload = load_json("agent_reply_v2")
    payload["mailboxId"] = MC_MAILBOX
    assert post_helpscout(client, HS, payload).status_code == 204


@pytest.mark.vcr
def test_agent_reply_goes_out_through_mobile_commons(client, services, vcr):
    """Planted bug: the reply also sent through Twilio."""
    reply_in_mobilecommons_mailbox(client)
    assert drain(services) == {"done": 1}
    assert not [r for r in vcr.played_requests if "twilio" in r.host]
    (row,) = services.store.rows()
    assert '"sms_sids": ["7400000101"]' in row["result"]


@pytest.mark.vcr
def test_ambiguous_send_is_found_in_the_profile_not_repeated(client, services, clock, vcr):
    """Planted bug: the ambiguous send_message repeated instead of looked up."""
    reply_in_mobilecommons_mailbox(client)
    assert drain(services) == {"retry": 1}
    clock.advance(3600)
    assert drain(services) == {"done": 1}
    assert len([r for r in vcr.played_requests if r.path.endswith("/send_message")]) == 1
    (row,) = services.store.rows()
    assert '"sms_sids": ["7400000102"]' in row["result"]  # the id found in the supporter's history


@pytest.mark.vcr
def test_opted_out_supporter_is_explained_to_the_agent(client, services, vcr):
    reply_in_mobilecommons_mailbox(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the note's text is in the cassette's request body
    (row,) = services.store.rows()
    assert '"sms_error": 6' in row["result"]


def test_attachments_are_refused_with_a_reason(plugin):
    context = SimpleNamespace(settings=SimpleNamespace(mobilecommons_username="u", mobilecommons_password="p",
                                                       mobilecommons_api_url="https://secure.mcommons.com/api/"))
    mailbox = Mailbox("mobilecommons", CAMPAIGN, MC_MAILBOX, kind="id")
    with pytest.raises(MobileCommonsRefused) as caught:
        plugin.transport_send_sms(context, mailbox, "+16175550123", "See attached", ["https://example.org/a.png"])
    assert caught.value.permanent and "sends text only" in caught.value.explanation


def test_other_transports_are_left_alone(plugin):
    context = SimpleNamespace()  # any use of settings or a client would raise
    for mailbox in (None, Mailbox("twilio", HOTLINE, MAILBOX_ID)):
        assert plugin.transport_send_sms(context, mailbox, "+16175550123", "hi", []) is None
        assert plugin.transport_find_sms(context, mailbox, "+16175550123", "hi", 0.0) is None
