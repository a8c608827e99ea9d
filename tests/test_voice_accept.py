"""Plugin ``voice_accept`` (route ``twilio-voice-accept``): the screened phone pressed a key, or did not."""

from __future__ import annotations

from call_support import CALLER_QUERY, call, twiml, verbs


def test_key_press_connects_and_silence_hangs_up_that_leg(client):
    accepted = twiml(call(client, "/bling/twilio_voice/accept", "voice_screen", query=CALLER_QUERY, Digits="1"))
    assert verbs(accepted) == []  # an empty document: Twilio bridges the call
    silent = twiml(call(client, "/bling/twilio_voice/accept", "voice_screen", query=CALLER_QUERY, Digits=""))
    assert verbs(silent) == ["Hangup"]
