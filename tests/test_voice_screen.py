"""Plugin ``voice_screen`` (route ``twilio-voice-screen``): the whisper an answering phone hears."""

from __future__ import annotations

from call_support import CALLER_QUERY, call, twiml, url, verbs
from support import load_form, post_twilio, twilio_signature


def test_whisper_says_who_calls_and_waits_for_one_key(client):
    root = twiml(call(client, "/bling/twilio_voice/screen", "voice_screen", query=CALLER_QUERY))
    assert verbs(root) == ["Gather", "Hangup"]
    gather = root.find("Gather")
    assert gather.attrib == {"action": url("/bling/twilio_voice/accept", CALLER_QUERY), "method": "POST",
                             "numDigits": "1", "timeout": "8"}
    assert [c.tag for c in gather] == ["Say"]
    assert gather.find("Say").text == "Hotline call from 6 1 7, 5 5 5, 0 1 2 3. Press any key to accept."


def test_screen_query_cannot_be_changed_without_breaking_the_signature(client):
    pairs = load_form("voice_screen")
    signed = twilio_signature(url("/bling/twilio_voice/screen", CALLER_QUERY), pairs)
    resp = post_twilio(client, "/bling/twilio_voice/screen", pairs, signature=signed,
                       query="caller=%2B15550001111&hotline=%2B16175550100")
    assert resp.status_code == 403
