"""A supporter texts the hotline: the text lands in Help Scout exactly once."""

from __future__ import annotations

import json

import pytest

from bling.jobs.worker import MAX_ATTEMPTS, drain
from sms_helpers import drain_until_dead, played
from support import MAILBOX_ID, SUPPORTER, load_form, post_twilio

SMS = "/bling/twilio_sms"



def deliver(client, services, form="sms_basic", **overrides):
    resp = post_twilio(client, SMS, load_form(form, **overrides))
    assert resp.status_code == 200
    return resp


def only_row(services):
    (row,) = services.store.rows()
    return row


@pytest.mark.vcr
def test_new_supporter_gets_conversation_and_one_auto_reply(client, services, vcr):
    deliver(client, services)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    row = only_row(services)
    assert row["state"] == "done"
    known = services.store.conversation_for(MAILBOX_ID, SUPPORTER)
    assert known["conversation_id"] == 7001 and known["thread_count"] == 1


@pytest.mark.vcr
def test_returning_supporter_costs_one_write(client, services, vcr):
    """Planted bug: a second write (a conversation read or a repeated thread) for a returning supporter."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, services)
    assert drain(services) == {"done": 1}
    assert played(vcr, "POST", "/threads") + played(vcr, "POST", "/customer") == 1  # one thread write
    assert vcr.play_count == 2  # and the token
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["thread_count"] == 5


@pytest.mark.vcr
def test_supporter_text_is_shown_to_the_agent_as_written(client, services, vcr):
    """Help Scout renders thread text as HTML: markup a supporter types is escaped, line breaks kept."""
    from bs4 import BeautifulSoup

    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, services, Body="5 < 6 & 7\n<b>hi</b> <script>alert(1)</script>")
    assert drain(services) == {"done": 1} and vcr.all_played
    posted = json.loads(vcr.played_requests[-1].body)["text"]
    shown = BeautifulSoup(posted, "html.parser")
    assert shown.find(["b", "script"]) is None  # no markup of the supporter's reaches the agent's screen
    assert shown.get_text("\n") == "5 < 6 & 7\n<b>hi</b> <script>alert(1)</script>"  # the words, as typed


@pytest.mark.vcr
def test_known_supporter_found_by_search_gets_thread_no_auto_reply(client, services, vcr):
    deliver(client, services)
    drain(services)
    assert vcr.all_played
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER) ["conversation_id"] == 7002


@pytest.mark.vcr
def test_full_conversation_starts_a_new_one_without_auto_reply(client, services, vcr):
    deliver(client, services)
    drain(services)
    assert vcr.all_played  # no Twilio request: the supporter is not new
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7004


@pytest.mark.vcr
def test_full_conversation_in_the_map_starts_a_new_one(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7003, 90)
    deliver(client, services)
    drain(services)
    assert vcr.all_played
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7004


@pytest.mark.vcr
def test_merged_conversation_falls_back_to_search(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 6)
    deliver(client, services)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7005


@pytest.mark.vcr
def test_thread_limit_refusal_opens_new_conversation(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 12)
    deliver(client, services)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7006


@pytest.mark.vcr
def test_mms_media_appear_in_the_thread(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    deliver(client, services, form="sms_mms")
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_international_supporter_keeps_country_code(client, services, vcr):
    deliver(client, services, form="sms_international_service")
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert services.store.conversation_for(MAILBOX_ID, "+447700900123")["conversation_id"] == 7008


@pytest.mark.vcr
def test_duplicate_delivery_posts_once(client, services, vcr):
    """Twilio retried the webhook: the second delivery changes nothing."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, services)
    drain(services)
    deliver(client, services)
    assert drain(services) == {}
    assert vcr.play_count == 2


@pytest.mark.vcr
def test_ambiguous_create_is_looked_up_not_repeated(client, services, clock, vcr):
    deliver(client, services)
    assert drain(services) == {"retry": 1}
    row = only_row(services)
    assert row["state"] == "pending" and "HelpScoutAmbiguous" in row["last_error"]
    clock.advance(3600)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one create only; the second attempt found it
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7009


@pytest.mark.vcr
def test_rate_limited_search_is_deferred_then_done(client, services, clock, vcr):
    deliver(client, services)
    assert drain(services) == {"retry": 1}
    row = only_row(services)
    assert clock() + 17 <= row["next_attempt_at"] <= clock() + 22  # Retry-After, plus a little jitter
    assert row["attempts"] == 0  # waiting for the rate limit is not a failed attempt
    clock.advance(10)
    assert drain(services) == {}  # not yet: Help Scout said 17 s
    clock.advance(13)
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr(allow_playback_repeats=True)
def test_help_scout_down_ends_in_dead_letter_and_one_failure_text(client, services, clock, vcr):
    """Planted bug: the failure text sent at every attempt (the cassette replays it; its play count is 1)."""
    deliver(client, services)
    assert drain_until_dead(services, clock) == {"retry": MAX_ATTEMPTS - 1, "dead": 1}
    row = only_row(services)
    assert row["state"] == "dead" and row["attempts"] == MAX_ATTEMPTS
    assert played(vcr, "POST", "/Messages.json") == 1  # the failure text, once


@pytest.mark.vcr
def test_opted_out_auto_reply_refusal_still_completes(client, services, vcr):
    deliver(client, services)
    assert drain(services) == {"done": 1}
    row = only_row(services)
    assert "opted out" in row["result"]
    assert vcr.all_played


@pytest.mark.vcr
def test_two_texts_at_once_create_one_conversation(client, services, vcr):
    deliver(client, services)
    deliver(client, services, MessageSid="SM66666666666666666666666666666666", Body="Are you there?")
    first, second = sorted(services.store.due())
    from bling.jobs.worker import process

    # The second text cannot start while the first (same supporter) is pending.
    assert process(services, second) == "skipped"
    assert process(services, first) == "done"
    assert process(services, second) == "done"
    assert vcr.all_played
