"""Plugin ``voice_dial_done`` (route ``twilio-voice-dial-done``): how ringing the group ended."""

from __future__ import annotations

import pytest

from call_support import CALL_SID, call, twiml, url, verbs
from support import HOTLINE, SUPPORTER


@pytest.mark.parametrize("status,bridged,call_status,answer", [
    ("completed", "true", "in-progress", ["Hangup"]),      # connected: the call is over
    ("completed", "false", "in-progress", ["Redirect"]),   # a screened-out leg (e.g. a voicemail box)
    ("no-answer", "false", "in-progress", ["Redirect"]),
    ("busy", "false", "in-progress", ["Redirect"]),
    ("failed", "false", "in-progress", ["Redirect"]),
    ("canceled", "false", "in-progress", ["Redirect"]),
    ("no-answer", "false", "completed", ["Hangup"]),       # the caller hung up while it rang
    ("completed", None, "in-progress", ["Hangup"]),        # no DialBridged: completed means connected
])
def test_dial_done_for_each_status(client, status, bridged, call_status, answer):
    root = twiml(call(client, "/bling/twilio_voice/dial_done", "voice_dial_done", DialCallStatus=status,
                      DialBridged=bridged, CallStatus=call_status))
    assert verbs(root) == answer
    if answer == ["Redirect"]:
        assert root.find("Redirect").text == url("/bling/twilio_voice/voicemail")


def test_dial_done_is_recorded_once_however_often_it_arrives(client, services):
    for _ in range(2):
        twiml(call(client, "/bling/twilio_voice/dial_done", "voice_dial_done"))
    (row,) = services.store.rows()
    assert row["key"] == f"twilio:call:{CALL_SID}:dial_done"
    assert row["supporter"] == f"{HOTLINE}|{SUPPORTER}"
