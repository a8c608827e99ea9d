"""Plugin ``voice_voicemail`` (route ``twilio-voice-voicemail``): the prompt and ``<Record>`` with its callbacks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from call_support import CALL_SID, CALLER_QUERY, call, twiml, url, verbs
from support import HOTLINE, SUPPORTER


def test_voicemail_step_prompts_then_records_with_callbacks(client):
    root = twiml(call(client, "/bling/twilio_voice/voicemail", CallStatus="in-progress"))
    assert verbs(root) == ["Say", "Record"]
    assert root.find("Say").text == "Please leave a message after the beep."
    record = root.find("Record")
    assert record.attrib == {
        "action": url("/bling/twilio_voice/record_done"), "method": "POST", "maxLength": "120", "timeout": "5",
        "finishOnKey": "#", "playBeep": "true", "transcribe": "true",
        "transcribeCallback": url("/bling/twilio_transcription"),
        "recordingStatusCallback": url("/bling/twilio_voice/recording", CALLER_QUERY),
        "recordingStatusCallbackMethod": "POST",
    }
    query = parse_qs(urlsplit(record.get("recordingStatusCallback")).query)
    assert query == {"caller": [SUPPORTER], "hotline": [HOTLINE]}


@pytest.mark.bling_config('[mailboxes.206906]\nmax_voicemail_seconds = 60\n'
                          'voicemail_prompt = "https://cdn.example.org/beep-prompt.mp3"\n')
def test_voicemail_length_and_audio_prompt_come_from_the_mailbox(client):
    root = twiml(call(client, "/bling/twilio_voice/voicemail"))
    assert verbs(root) == ["Play", "Record"]
    assert root.find("Play").text == "https://cdn.example.org/beep-prompt.mp3"
    assert root.find("Record").get("maxLength") == "60"


def test_hidden_caller_is_told_instead_of_recorded(client):
    root = twiml(call(client, "/bling/twilio_voice/voicemail", From="anonymous", Caller="anonymous"))
    assert verbs(root) == ["Say", "Hangup"]
    assert "could not receive your voicemail" in root.find("Say").text


def test_voicemail_offer_waits_on_its_own_key(client, services):
    twiml(call(client, "/bling/twilio_voice/voicemail"))
    (row,) = services.store.rows()
    assert row["key"] == f"twilio:call:{CALL_SID}:voicemail"
    assert row["supporter"] == f"call:{CALL_SID}"  # never holds up the caller's voicemail job
