"""Every call leaves a trace (plugin ``call_log``): answered, or missed, never nothing.

The ``<Dial>`` action and the voicemail step answer Twilio at once and
leave this work to a worker; Twilio's call and recording reads and Help
Scout replay from body-matched cassettes.
"""

from __future__ import annotations

import json

import pytest

from bling.store.supporters import cached_match
from bling.jobs.worker import drain
from call_support import CALL_SID, call, twiml, verbs
from support import MAILBOX_ID, SUPPORTER

DIAL_DONE = "/bling/twilio_voice/dial_done"
VOICEMAIL = "/bling/twilio_voice/voicemail"
FIRST_LOOK = 120 + 60  # max_voicemail_seconds + the grace for the prompt


def state_of(services, key: str) -> dict:
    row = services.store.find_key(key)
    assert row is not None and row["state"] == "done", row
    return row["result"]


@pytest.mark.vcr
def test_answered_call_is_logged_with_who_answered_and_for_how_long(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    root = twiml(call(client, DIAL_DONE, "voice_dial_done", DialCallStatus="completed", DialBridged="true",
                      DialCallDuration="130", CallStatus="in-progress"))
    assert verbs(root) == ["Hangup"]
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the answering leg read once, one phone thread
    state = state_of(services, f"twilio:call:{CALL_SID}:dial_done")
    assert state["outcome"] == "answered" and state["answered_by"] == "+16175550101"


@pytest.mark.vcr
def test_answered_call_duration_comes_from_twilio_when_the_action_lacks_it(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    call(client, DIAL_DONE, "voice_dial_done", DialCallStatus="completed", DialBridged="true", DialCallDuration=None)
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_caller_hanging_up_while_the_phones_ring_is_a_missed_call(client, services, vcr):
    root = twiml(call(client, DIAL_DONE, "voice_dial_done", CallStatus="completed"))
    assert verbs(root) == ["Hangup"]
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # customer search by phone, conversation search, a new "Call from" conversation
    assert state_of(services, f"twilio:call:{CALL_SID}:dial_done")["outcome"] == "missed"
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7201


@pytest.mark.vcr
@pytest.mark.vcr
def test_a_missed_call_from_a_help_scout_customer_is_logged_in_their_conversation(client, services, vcr):
    """The caller is found by phone (customer_match): the missed call is posted as customer 321."""
    call(client, DIAL_DONE, "voice_dial_done", CallStatus="completed")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # search by phone, their conversations, one phone thread by id in 6002
    state = state_of(services, f"twilio:call:{CALL_SID}:dial_done")
    assert state["outcome"] == "missed" and state["customer"]["id"] == 321
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 6002


@pytest.mark.vcr
def test_unanswered_ringing_hands_over_to_voicemail_and_logs_nothing_itself(client, services, vcr):
    twiml(call(client, DIAL_DONE, "voice_dial_done", DialCallStatus="busy"))
    assert drain(services) == {"done": 1}  # nothing posted, nothing read from Twilio: the voicemail step takes over
    assert vcr.all_played  # the caller's one search by phone (customer_match), cached for what follows
    assert state_of(services, f"twilio:call:{CALL_SID}:dial_done")["outcome"] == "sent to voicemail"
    assert cached_match(services.store, SUPPORTER)["customer_id"] is None


@pytest.mark.vcr
@pytest.mark.bling_config("[mailboxes.206906]\nmissed_call_text_back = true\n")
def test_hang_up_before_the_beep_is_a_missed_call_and_a_text_back(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    twiml(call(client, VOICEMAIL, CallStatus="in-progress"))
    assert drain(services) == {"retry": 1}  # the prompt is playing: look once the call must be over
    (row,) = services.store.rows()
    assert row["next_attempt_at"] == pytest.approx(clock() + FIRST_LOOK)
    assert vcr.play_count == 0
    clock.advance(FIRST_LOOK)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # call ended, no recording → thread + text-back
    state = state_of(services, f"twilio:call:{CALL_SID}:voicemail")
    assert state["outcome"] == "missed" and state["text_back_sid"] == "SM0000000000000000000000000000d001"


@pytest.mark.vcr
def test_a_call_still_going_is_looked_at_again_and_a_voicemail_is_left_alone(client, services, clock, vcr):
    twiml(call(client, VOICEMAIL, CallStatus="in-progress"))
    drain(services)
    clock.advance(FIRST_LOOK)
    assert drain(services) == {"retry": 1}  # still in progress
    clock.advance(30)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one customer search, two looks at the call, one at its recordings; nothing posted
    assert state_of(services, f"twilio:call:{CALL_SID}:voicemail")["outcome"] == "voicemail"


@pytest.mark.vcr
@pytest.mark.bling_config("[mailboxes.206906]\nmissed_call_thread = false\n")
def test_missed_calls_can_be_left_unlogged(client, services, vcr):
    twiml(call(client, VOICEMAIL))
    assert drain(services) == {"done": 1}  # nothing to do, so nothing is read from Twilio
    assert vcr.all_played  # only the caller's search by phone (customer_match runs first)


@pytest.mark.vcr
def test_duplicate_dial_action_logs_the_answered_call_once(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    for _ in range(2):
        call(client, DIAL_DONE, "voice_dial_done", DialCallStatus="completed", DialBridged="true",
             DialCallDuration="130")
        drain(services)
    assert vcr.play_count == 3 and vcr.all_played
    assert len(services.store.rows()) == 1


def test_hidden_caller_answered_call_leaves_only_the_job_record(client, services):
    call(client, DIAL_DONE, "voice_dial_done", DialCallStatus="completed", DialBridged="true",
         From="anonymous", Caller="anonymous")
    assert drain(services) == {"done": 1}
    (row,) = services.store.rows()
    assert json.loads(row["result"])["outcome"] == "answered"


def test_hidden_caller_offered_voicemail_needs_no_look_at_the_call(client, services):
    call(client, VOICEMAIL, From="anonymous", Caller="anonymous")  # they heard the failure text instead
    assert drain(services) == {"done": 1}  # no retry, no Twilio read
    (row,) = services.store.rows()
    assert json.loads(row["result"])["outcome"].startswith("hidden number")
