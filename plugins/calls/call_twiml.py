"""The TwiML of Bling's call flow, built with the ``twilio`` library's classes.

Every answer is a complete ``<Response>`` document; the plugins decide
which one a call gets (the ``voice_*`` step plugins). Attribute values follow
Twilio's TwiML reference: ``<Dial>`` with an ``action`` (so later verbs are
never reached by accident), ``<Record>`` with an explicit ``action`` (its
default, the current URL, would loop) and ``maxLength`` ≤ 120 s so the
recording can be transcribed.
"""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from .options import is_audio_url

#: Said on a number Bling has no mailbox for (instead of Twilio's "application error").
NOT_IN_SERVICE = "Sorry, this number cannot take calls right now. Goodbye."
#: Seconds an answering phone has to press a key before that leg is hung up.
SCREEN_SECONDS = 8
#: Seconds of silence that end a voicemail.
SILENCE_SECONDS = 5


def _announce(response: VoiceResponse, text: str) -> None:
    """Say ``text``, or play it when it is an audio URL; nothing when empty."""
    if not text:
        return
    if is_audio_url(text):
        response.play(text)
    else:
        response.say(text)


def apology() -> str:
    """A short spoken apology, then hang up (unknown hotline number)."""
    response = VoiceResponse()
    response.say(NOT_IN_SERVICE)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def bridge() -> str:
    """An empty document: the screened leg accepted, Twilio connects the call."""
    return str(VoiceResponse())


@dataclass(frozen=True)
class RingGroup:
    """Who to ring, and where Twilio reports back."""

    hotline: str
    numbers: tuple[str, ...]
    timeout: int
    dial_done_url: str
    screen_url: str | None  # None: no screening


def ring(greeting: str, group: RingGroup) -> str:
    """Greet, then ring every number at once with the hotline as caller ID."""
    response = VoiceResponse()
    _announce(response, greeting)
    dial = response.dial(action=group.dial_done_url, method="POST", caller_id=group.hotline,
                         timeout=group.timeout, answer_on_bridge=True)
    for number in group.numbers:
        if group.screen_url:
            dial.number(number, url=group.screen_url, method="POST")
        else:
            dial.number(number)
    return str(response)


def to_voicemail(greeting: str, voicemail_url: str) -> str:
    """Greet (or say we are closed), then go to the voicemail step."""
    response = VoiceResponse()
    _announce(response, greeting)
    response.redirect(voicemail_url, method="POST")
    return str(response)


def screen(caller: str, accept_url: str) -> str:
    """Whisper to an answering phone; no key press hangs up that leg only."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=accept_url, method="POST", timeout=SCREEN_SECONDS)
    gather.say(f"Hotline call from {caller}. Press any key to accept.")
    response.hangup()
    return str(response)


@dataclass(frozen=True)
class Voicemail:
    """The voicemail step: prompt, then ``<Record>`` with its callbacks."""

    prompt: str
    max_seconds: int
    record_done_url: str
    recording_url: str
    transcription_url: str


def record(voicemail: Voicemail) -> str:
    """Prompt, beep, record (transcribed), report to Bling."""
    response = VoiceResponse()
    _announce(response, voicemail.prompt)
    response.record(action=voicemail.record_done_url, method="POST", max_length=voicemail.max_seconds,
                    timeout=SILENCE_SECONDS, finish_on_key="#", play_beep=True, transcribe=True,
                    transcribe_callback=voicemail.transcription_url,
                    recording_status_callback=voicemail.recording_url,
                    recording_status_callback_method="POST")
    return str(response)


def say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)
