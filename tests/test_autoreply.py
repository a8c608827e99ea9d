"""The first-contact auto-reply: per-mailbox text, can be off, never twice."""

from __future__ import annotations

import pytest

from bling.jobs.worker import drain
from support import load_form, post_twilio


@pytest.mark.vcr
@pytest.mark.bling_config('[mailboxes.206906]\nauto_reply = "Thanks for texting the Boston hotline!"\n')
def test_per_mailbox_auto_reply_text_is_sent(client, services, vcr):
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
@pytest.mark.bling_config('[mailboxes.206906]\nauto_reply = ""\n')
def test_empty_auto_reply_turns_it_off(client, services, vcr):
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"done": 1}
    assert vcr.all_played and not any("twilio" in r.host for r in vcr.played_requests)


@pytest.mark.vcr
def test_transient_auto_reply_failure_retries_without_reposting(client, services, clock, vcr):
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"retry": 1}
    clock.advance(600)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one search, one create, two sends (the first refused)
    (row,) = services.store.rows()
    assert '"auto_reply_sid": "SM0000000000000000000000000000c003"' in row["result"]
