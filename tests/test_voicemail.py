"""Voicemails reach Help Scout once, with their audio (plugin ``voicemail``).

Twilio's recording callback (Bling's own ``<Record>``) and a Studio flow's
request to the original ``/bling/twilio_voicemail`` feed the same plugin.
Help Scout, the recording download and the auto-reply replay from
body-matched cassettes.
"""

from __future__ import annotations

import json

import pytest

from bling_local_plugins.calls import recordings
from bling.store.supporters import cached_match
from bling.jobs.worker import MAX_ATTEMPTS, drain
from call_support import CALL_SID, CALLER_QUERY, RECORDING_SID, RECORDING_URL, call
from sms_helpers import drain_until_dead
from support import MAILBOX_ID, SUPPORTER

RECORDING = "/bling/twilio_voice/recording"
STUDIO = "/bling/twilio_voicemail"


def deliver(client, path=RECORDING, fixture="voice_recording", query=CALLER_QUERY, **overrides):
    resp = call(client, path, fixture, query=query, **overrides)
    assert resp.status_code == 200
    assert resp.text.endswith("<Response />")  # an empty TwiML answer: nothing is read to anyone
    return resp


def result(services) -> dict:
    (row,) = services.store.rows()
    assert row["key"] == f"twilio:recording:{RECORDING_SID}"
    return json.loads(row["result"])


@pytest.mark.vcr
def test_first_voicemail_opens_conversation_with_audio_and_auto_reply(client, services, vcr):
    deliver(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    state = result(services)
    assert state["conversation_id"] == 7101 and state["first_contact"] is True
    assert state["auto_reply_sid"] == "SM0000000000000000000000000000c001"
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER) ["conversation_id"] == 7101


@pytest.mark.vcr
def test_a_caller_who_is_a_help_scout_customer_gets_the_voicemail_in_their_conversation(client, services, vcr):
    """Found by phone (customer_match): posted as customer 321 into their phone conversation, not their e-mail one."""
    deliver(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # search by phone, audio, their conversations, one phone thread by customer id
    state = result(services)
    assert state["customer"] == {"id": 321, "email": "jane@example.org"}
    assert state["conversation_id"] == 6002 and state["first_contact"] is False and "auto_reply_sid" not in state
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 6002
    assert cached_match(services.store, SUPPORTER)["customer_id"] == 321


@pytest.mark.vcr
def test_returning_caller_gets_a_phone_thread_and_no_auto_reply(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played and len(vcr.played_requests) == 3  # download, token, one thread write
    assert "auto_reply_sid" not in result(services)
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["thread_count"] == 5


@pytest.mark.vcr
def test_duplicate_recording_callback_posts_once(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    deliver(client)
    assert drain(services) == {"done": 1}
    deliver(client)
    assert drain(services) == {}
    assert vcr.play_count == 3


@pytest.mark.vcr
def test_recording_over_the_attachment_limit_is_posted_as_its_url(client, services, vcr, monkeypatch):
    monkeypatch.setattr(recordings, "MAX_RECORDING_BYTES", 8)  # the cassette's audio is 18 bytes
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert result(services)["recording_not_attached"] == "it is larger than Help Scout's attachment limit"


@pytest.mark.vcr
def test_help_scout_refusing_the_size_gets_the_url_alone(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the 413, then the same thread without the audio
    assert result(services)["recording_not_attached"] == "Help Scout refused it as too large"


@pytest.mark.vcr
def test_recording_not_ready_is_fetched_again_later(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    assert drain(services) == {"retry": 1}
    assert "TwilioTransient" in services.store.rows()[0]["last_error"]
    clock.advance(3600)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # 404, then the audio, then one thread with it


@pytest.mark.vcr
def test_recording_still_missing_after_retries_is_posted_without_audio(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client)
    outcomes = {}
    for _ in range(recordings.DOWNLOAD_ATTEMPTS):
        for outcome, count in drain(services).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        clock.advance(3600)
    assert outcomes == {"retry": recordings.DOWNLOAD_ATTEMPTS - 1, "done": 1}
    assert vcr.all_played
    assert result(services)["recording_not_attached"] == "the recording is not available from Twilio"


@pytest.mark.vcr
def test_failed_recording_still_leaves_a_thread(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, RecordingStatus="failed", RecordingDuration="0")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # no download; one thread asking for a call back


@pytest.mark.vcr(allow_playback_repeats=True)
def test_help_scout_down_texts_the_voicemail_failure_once(client, services, clock, vcr):
    """Planted bug: the voicemail failure text sent at every attempt (the cassette replays it)."""
    deliver(client)
    assert drain_until_dead(services, clock) == {"retry": MAX_ATTEMPTS - 1, "dead": 1}
    sms = [r for r in vcr.played_requests if r.path.endswith("/Messages.json")]
    assert len(sms) == 1  # the voicemail failure text, once (the cassette would replay a second one)
    assert "could+not+receive+your+voicemail" in sms[0].body.decode()


def test_hidden_caller_is_not_posted(client, services):
    deliver(client, query="caller=anonymous&hotline=%2B16175550100")
    assert services.store.rows() == []


def test_callback_for_an_unknown_hotline_is_ignored(client, services):
    deliver(client, query="caller=%2B16175550123&hotline=%2B16175559999")
    assert services.store.rows() == []


# -- the original Studio endpoint --------------------------------------------------------


@pytest.mark.vcr
def test_studio_voicemail_is_posted_like_the_original(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, STUDIO, "studio_voicemail", query="")
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    # Twilio's own callback for the same recording is the same event: nothing twice.
    deliver(client)
    assert drain(services) == {}
    assert result(services)["conversation_id"] == 7001


@pytest.mark.vcr
def test_studio_voicemail_with_sids_and_blank_length(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    deliver(client, STUDIO, "studio_voicemail", query="", length="", RecordingSid=RECORDING_SID, CallSid=CALL_SID)
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_studio_recording_url_elsewhere_is_never_fetched_with_our_credentials(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    foreign = RECORDING_URL.replace("https://api.twilio.com", "https://recordings.example.net")
    deliver(client, STUDIO, "studio_voicemail", query="", recording=foreign)
    assert drain(services) == {"done": 1}
    assert vcr.all_played and not [r for r in vcr.played_requests if "twilio.com" in r.host]


def test_studio_voicemail_without_recording_is_refused_naming_the_field(client, services):
    resp = call(client, STUDIO, "studio_voicemail", recording=None)
    assert resp.status_code == 422
    assert "recording" in resp.json["description"]
    assert services.store.rows() == []
