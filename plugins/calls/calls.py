"""Small helpers shared by the call plugins: route names, the store's clock, the caller's number.

URLs come from the route table (``bling.routing.urls.url_for``), numbers and
durations in words from ``bling.words``: the dialer needs them too.
"""

from __future__ import annotations

from datetime import datetime, timezone

from bling.phones import to_e164

#: Names (in routes.toml) of the call flow's routes a step's TwiML sends Twilio to next;
#: their paths are written only there (``bling.routing.urls.url_for`` looks them up).
SCREEN_ROUTE = "twilio-voice-screen"
ACCEPT_ROUTE = "twilio-voice-accept"
DIAL_DONE_ROUTE = "twilio-voice-dial-done"
VOICEMAIL_ROUTE = "twilio-voice-voicemail"
RECORD_DONE_ROUTE = "twilio-voice-record-done"
RECORDING_ROUTE = "twilio-voice-recording"
TRANSCRIPTION_ROUTE = "twilio-transcription"


def now(context) -> datetime:
    """The store's clock as an aware datetime (tests move it by hand)."""
    return datetime.fromtimestamp(context.store.clock(), timezone.utc)


def caller_phone(event: dict) -> str | None:
    """The caller's E.164 number, or None when it is hidden (``anonymous``, ``unknown``…)."""
    return to_e164(event.get("caller"))
