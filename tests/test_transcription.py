"""Transcriptions follow their voicemail into the same conversation (plugin ``transcription``).

Twilio's transcription callback may arrive before the recording callback;
it waits (retried later) and is never dropped. Help Scout and the
recording download replay from body-matched cassettes.
"""

from __future__ import annotations

import json

import pytest

from bling.jobs.worker import drain
from call_support import CALLER_QUERY, TRANSCRIPTION_SID, call
from support import MAILBOX_ID, SUPPORTER

RECORDING = "/bling/twilio_voice/recording"
TRANSCRIPTION = "/bling/twilio_transcription"



def recording(client, **overrides):
    assert call(client, RECORDING, "voice_recording", query=CALLER_QUERY, **overrides).status_code == 200


def transcription(client, **overrides):
    resp = call(client, TRANSCRIPTION, "voice_transcription", **overrides)
    assert resp.status_code == 200 and resp.text.endswith("<Response />")


def thread_writes(vcr) -> list[str]:
    """The texts of the phone threads written, in order."""
    return [json.loads(r.body)["text"].split(":")[0] for r in vcr.played_requests
            if r.method == "POST" and r.path.endswith("/phones")]


@pytest.mark.vcr
def test_transcription_follows_its_voicemail_into_the_same_conversation(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    recording(client)
    transcription(client)
    assert drain(services) == {"done": 2}
    assert vcr.all_played
    assert thread_writes(vcr) == ["Voicemail from (617) 555-0123, 35 s.<br><br>Recording", "Voicemail transcription"]
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["thread_count"] == 6


@pytest.mark.vcr
def test_transcription_arriving_first_waits_for_its_voicemail(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    transcription(client)
    assert drain(services) == {"retry": 1}
    assert "has not arrived yet" in services.store.rows()[0]["last_error"]
    recording(client)
    assert drain(services) == {"done": 1}  # the voicemail
    clock.advance(15)
    assert drain(services) == {"done": 1}  # then its transcription
    assert vcr.all_played
    assert thread_writes(vcr) == ["Voicemail from (617) 555-0123, 35 s.<br><br>Recording", "Voicemail transcription"]


@pytest.mark.vcr
def test_failed_transcription_points_to_the_recording(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    recording(client)
    transcription(client, TranscriptionStatus="failed", TranscriptionText="")
    assert drain(services) == {"done": 2}
    assert vcr.all_played
    assert thread_writes(vcr)[-1] == "Transcription failed — listen to the recording"


@pytest.mark.vcr
def test_transcription_whose_voicemail_never_comes_is_still_posted(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    transcription(client)
    outcomes = {}
    for _ in range(8):
        for outcome, count in drain(services).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        clock.advance(120)
    assert outcomes == {"retry": 5, "done": 1}
    assert vcr.all_played
    (row,) = services.store.rows()
    assert json.loads(row["result"])["posted_without_voicemail"] is True


@pytest.mark.vcr
def test_duplicate_transcription_callback_posts_once(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    recording(client)
    transcription(client)
    transcription(client)
    assert drain(services) == {"done": 2}
    transcription(client)
    assert drain(services) == {}
    assert vcr.all_played and vcr.play_count == 4
    keys = sorted(r["key"] for r in services.store.rows())
    assert keys[1] == f"twilio:transcription:{TRANSCRIPTION_SID}"


def test_transcription_of_a_hidden_caller_is_ignored(client, services):
    transcription(client, From="anonymous", Caller="anonymous")
    assert services.store.rows() == []
