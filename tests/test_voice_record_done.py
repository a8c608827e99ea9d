"""Plugin ``voice_record_done`` (route ``twilio-voice-record-done``): the voicemail ended."""

from __future__ import annotations

from call_support import call, twiml, verbs


def test_record_done_hangs_up(client):
    assert verbs(twiml(call(client, "/bling/twilio_voice/record_done", "voice_record_done"))) == ["Hangup"]
