"""Small helpers shared by the call plugins: URLs, numbers read aloud, durations.

Callback URLs are absolute (Twilio requires it for ``<Record>`` and
``<Dial>`` actions reached from a redirect) and built from BLING_PUBLIC_URL,
or from the URL of the request being answered when it is not set — the
same base the Twilio signature check uses, so Twilio's signature of the
callback matches what Bling checks. Query parameters go in alphabetical
order, because Twilio has been seen to re-sort them before signing.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from bling.phones import pretty, to_e164

#: Paths of the call flow (routes.toml lists the same paths).
VOICE_PATH = "/bling/twilio_voice"
SCREEN_PATH = "/bling/twilio_voice/screen"
ACCEPT_PATH = "/bling/twilio_voice/accept"
DIAL_DONE_PATH = "/bling/twilio_voice/dial_done"
VOICEMAIL_PATH = "/bling/twilio_voice/voicemail"
RECORD_DONE_PATH = "/bling/twilio_voice/record_done"
RECORDING_PATH = "/bling/twilio_voice/recording"
TRANSCRIPTION_PATH = "/bling/twilio_transcription"


def callback_url(context, path: str, **query: str) -> str:
    """Absolute URL of ``path`` for Twilio to call back, query sorted by name."""
    base = context.settings.public_base() or context.request_base.rstrip("/")
    url = base + path
    if query:
        url += "?" + urlencode(sorted(query.items()))
    return url


def spoken_number(phone: str | None) -> str:
    """A number as text-to-speech should read it: digit by digit, grouped.

    ``+16175550123`` → ``6 1 7, 5 5 5, 0 1 2 3``; a hidden number → ``an unknown number``.
    """
    number = to_e164(phone) if phone else None
    if number is None:
        return "an unknown number"
    groups = re.findall(r"\d+", pretty(number))
    return ", ".join(" ".join(group) for group in groups)


def describe_duration(seconds: int) -> str:
    """``45`` → ``45 s``; ``130`` → ``2 min 10 s``; ``3600`` → ``1 h 0 min``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def now(context) -> datetime:
    """The store's clock as an aware datetime (tests move it by hand)."""
    return datetime.fromtimestamp(context.store.clock(), timezone.utc)


def caller_phone(event: dict) -> str | None:
    """The caller's E.164 number, or None when it is hidden (``anonymous``, ``unknown``…)."""
    return to_e164(event.get("caller"))
