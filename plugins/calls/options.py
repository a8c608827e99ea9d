"""Per-mailbox call settings of BLING_CONFIG: their defaults and their checks.

Declared to the host by the voice package (``bling_mailbox_options``); each
field says what a good value is, so a bad ring number or an over-long voicemail stops start-up
with the file, the table and the key named, instead of failing mid-call.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from bling.phones import phonenumbers  # imported on first use

#: Twilio dials at most ten ``<Number>`` nouns at once.
MAX_RING_NUMBERS = 10
#: Twilio transcribes only recordings shorter than 120 s.
MAX_VOICEMAIL_SECONDS = 120
#: ``<Dial timeout>``: Twilio accepts 5 to 600 s; more than two minutes of ringing helps nobody.
RING_TIMEOUT_RANGE = (5, 120)
#: ``<Say>`` reads at most 4,096 characters.
MAX_SPOKEN_CHARACTERS = 4000

DEFAULT_RING_TIMEOUT = 20
DEFAULT_VOICEMAIL_PROMPT = "Please leave a message after the beep."
DEFAULT_AFTER_HOURS_GREETING = "Thank you for calling. We are closed right now."
DEFAULT_VOICEMAIL_AUTO_REPLY = "We've received your voicemail and will get back to you shortly."
DEFAULT_VOICEMAIL_FAILURE_REPLY = (
    "Sorry, we could not receive your voicemail. Please try again later or text us instead."
)
DEFAULT_MISSED_CALL_TEXT = "Sorry we missed your call. You can text us at this number and we'll get back to you."

_AUDIO_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_audio_url(text: str) -> bool:
    """True when a greeting names an audio file to play rather than words to say."""
    return bool(_AUDIO_URL.match(text.strip()))


def e164(text: str) -> str:
    """Return ``text`` as a valid E.164 number or raise ValueError saying why."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not an E.164 number (like +16175550101)") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class RingNumbers(fields.List):
    """Up to ten distinct E.164 numbers, loaded as a tuple in E.164 form."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[str, ...]:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > MAX_RING_NUMBERS:
            raise ValidationError(f"at most {MAX_RING_NUMBERS} numbers ring at once; {len(raw)} given")
        numbers: list[str] = []
        for text in raw:
            try:
                number = e164(text)
            except ValueError as ex:
                raise ValidationError(str(ex)) from None
            if number in numbers:
                raise ValidationError(f"{text!r} is listed twice")
            numbers.append(number)
        return tuple(numbers)


class SpokenOrPlayed(fields.String):
    """Words for ``<Say>``, or an http(s) URL of an audio file for ``<Play>``."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=MAX_SPOKEN_CHARACTERS), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if is_audio_url(text) and (not urlsplit(text).netloc or any(c.isspace() for c in text)):
            raise ValidationError(f"{text!r} is not a usable audio URL")
        return text


def _sms_text(default: str, required_text: bool = False) -> fields.String:
    """An SMS body: at most 1,600 characters (Twilio's limit); empty turns it off unless required."""
    return fields.String(load_default=default, validate=validate.Length(min=1 if required_text else 0, max=1600))


class VoiceOptions(Schema):
    """Calls: ring group, screening, greetings, voicemail, missed calls (plugins voice, call_log, voicemail)."""

    class Meta:
        unknown = RAISE

    ring = RingNumbers(load_default=())  # E.164 numbers rung at once (≤ 10); empty: straight to voicemail
    ring_timeout = fields.Integer(load_default=DEFAULT_RING_TIMEOUT, validate=validate.Range(*RING_TIMEOUT_RANGE))
    screen = fields.Boolean(load_default=True)  # an answering phone must press a key, so a personal voicemail cannot take the call
    greeting = SpokenOrPlayed(load_default="")  # said (or played, if an audio URL) when a call comes in
    voicemail_prompt = SpokenOrPlayed(load_default=DEFAULT_VOICEMAIL_PROMPT)  # said or played before the beep
    max_voicemail_seconds = fields.Integer(
        load_default=MAX_VOICEMAIL_SECONDS,
        validate=validate.Range(min=5, max=MAX_VOICEMAIL_SECONDS, error="must be between {min} and {max} seconds "
                                "(Twilio transcribes only recordings under 120 s)"))
    after_hours_greeting = SpokenOrPlayed(load_default=DEFAULT_AFTER_HOURS_GREETING)  # outside hours, before the prompt
    missed_call_thread = fields.Boolean(load_default=True)  # a hang-up before the beep leaves a "missed call" thread
    missed_call_text_back = fields.Boolean(load_default=False)  # and is texted missed_call_text
    missed_call_text = _sms_text(DEFAULT_MISSED_CALL_TEXT)
    voicemail_auto_reply = _sms_text(DEFAULT_VOICEMAIL_AUTO_REPLY)  # texted after a first contact's voicemail
    voicemail_failure_reply = _sms_text(DEFAULT_VOICEMAIL_FAILURE_REPLY, required_text=True)  # when a voicemail cannot be posted
