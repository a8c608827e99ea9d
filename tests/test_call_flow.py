"""Whole calls, driven the way Twilio drives them: each next request goes to the URL
Bling's TwiML named, signed like Twilio signs it, with Twilio's own fields.

Plugins ``voice_incoming`` … ``voice_record_done`` (one per step) → ``call_log`` / ``voicemail`` /
``transcription`` together;
Help Scout, the recording download and Twilio's call reads replay from
body-matched cassettes.
"""

from __future__ import annotations

import json

import pytest

from bling.jobs.worker import drain
from call_support import RING_CONFIG, call, follow, twiml, verbs
from support import MAILBOX_ID, SUPPORTER

FIRST_LOOK = 120 + 60


def results(services) -> dict[str, dict]:
    return {row["key"].rsplit(":", 1)[-1]: {"state": row["state"], **json.loads(row["result"] or "{}")}
            for row in services.store.rows()}


@pytest.mark.vcr
@pytest.mark.default_cassette("test_nobody_answers_so_a_voicemail_and_its_transcription_reach_help_scout")
@pytest.mark.bling_config(RING_CONFIG)
@pytest.mark.parametrize("dial_status", ["completed", "no-answer", "busy", "failed"])
def test_nobody_answers_so_a_voicemail_and_its_transcription_reach_help_scout(client, services, clock, vcr,
                                                                               dial_status):
    ring = twiml(call(client, "/bling/twilio_voice"))
    dial = ring.find("Dial")
    if dial_status == "completed":
        # A phone of the group answers, but it is a voicemail box: it never presses a key.
        whisper = twiml(follow(client, dial.find("Number").get("url"), "voice_screen"))
        no_key = twiml(follow(client, whisper.find("Gather").get("action"), "voice_screen", Digits=""))
        assert verbs(no_key) == ["Hangup"]
    # Twilio reports the <Dial> ended without a bridge: on to voicemail.
    after_dial = twiml(follow(client, dial.get("action"), "voice_dial_done", DialCallStatus=dial_status,
                              DialBridged="false"))
    prompt = twiml(follow(client, after_dial.find("Redirect").text, "voice_incoming", CallStatus="in-progress"))
    record = prompt.find("Record")
    assert verbs(twiml(follow(client, record.get("action"), "voice_record_done"))) == ["Hangup"]
    # After the call: the recording, then its transcription (each delivered twice, as retries may).
    for _ in range(2):
        assert follow(client, record.get("recordingStatusCallback"), "voice_recording").status_code == 200
        assert follow(client, record.get("transcribeCallback"), "voice_transcription").status_code == 200

    assert drain(services) == {"done": 3, "retry": 1}  # the voicemail step's check waits for the call's end
    clock.advance(FIRST_LOOK)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    done = results(services)
    assert done["dial_done"]["outcome"] == "sent to voicemail"
    assert done["voicemail"]["outcome"] == "voicemail"  # not logged as missed as well
    assert done["RE55555555555555555555555555555555"]["first_contact"] is True
    assert done["RE55555555555555555555555555555555"]["auto_reply_sid"] == "SM0000000000000000000000000000e001"
    known = services.store.conversation_for(MAILBOX_ID, SUPPORTER)
    assert (known["conversation_id"], known["thread_count"]) == (7301, 2)  # voicemail, then transcription


@pytest.mark.vcr
@pytest.mark.bling_config(RING_CONFIG)
def test_a_help_scout_customers_call_is_matched_once_and_lands_in_their_conversation(client, services, clock, vcr):
    """Nobody answers a caller who once e-mailed: one search by phone serves every job of the call."""
    dial = twiml(call(client, "/bling/twilio_voice")).find("Dial")
    after_dial = twiml(follow(client, dial.get("action"), "voice_dial_done", DialCallStatus="no-answer",
                              DialBridged="false"))
    record = twiml(follow(client, after_dial.find("Redirect").text, "voice_incoming",
                          CallStatus="in-progress")).find("Record")
    twiml(follow(client, record.get("action"), "voice_record_done"))
    assert follow(client, record.get("recordingStatusCallback"), "voice_recording").status_code == 200
    assert follow(client, record.get("transcribeCallback"), "voice_transcription").status_code == 200

    assert drain(services) == {"done": 3, "retry": 1}
    clock.advance(FIRST_LOOK)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the cassette holds one customer search: a second one would not play
    done = results(services)
    jane = {"id": 321, "email": "jane@example.org"}
    assert done["dial_done"]["customer"] == jane and done["voicemail"]["customer"] == jane
    assert done["RE55555555555555555555555555555555"]["customer"] == jane
    assert done["TR66666666666666666666666666666666"]["customer"] == jane
    assert "auto_reply_sid" not in done["RE55555555555555555555555555555555"]  # she has written before
    known = services.store.conversation_for(MAILBOX_ID, SUPPORTER)
    assert (known["conversation_id"], known["thread_count"]) == (6002, 6)  # her phone conversation: +2 threads


@pytest.mark.vcr
@pytest.mark.bling_config(RING_CONFIG)
def test_a_screened_phone_accepts_and_the_answered_call_is_logged(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    dial = twiml(call(client, "/bling/twilio_voice")).find("Dial")
    whisper = twiml(follow(client, dial.find("Number").get("url"), "voice_screen"))
    accepted = twiml(follow(client, whisper.find("Gather").get("action"), "voice_screen", Digits="1"))
    assert verbs(accepted) == []  # Twilio bridges the caller to this phone
    after = twiml(follow(client, dial.get("action"), "voice_dial_done", DialCallStatus="completed",
                         DialBridged="true", DialCallDuration="130"))
    assert verbs(after) == ["Hangup"]
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert results(services)["dial_done"]["answered_by"] == "+16175550101"


@pytest.mark.vcr
@pytest.mark.bling_config(RING_CONFIG + 'timezone = "America/New_York"\nhours = ["mon-fri 09:00-17:00"]\n')
def test_after_hours_caller_who_hangs_up_before_the_beep_leaves_a_missed_call(client, services, clock, vcr):
    clock.now = 1795647600.0  # 2026-11-25T22:20:00Z: Wednesday 17:20 in New York, closed
    closed = twiml(call(client, "/bling/twilio_voice"))
    assert verbs(closed) == ["Say", "Redirect"]
    prompt = twiml(follow(client, closed.find("Redirect").text, "voice_incoming", CallStatus="in-progress"))
    assert verbs(prompt) == ["Say", "Record"]
    # The caller hangs up during the prompt: Twilio requests nothing more.
    assert drain(services) == {"retry": 1}
    clock.advance(FIRST_LOOK)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert results(services)["voicemail"]["outcome"] == "missed"
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7302
