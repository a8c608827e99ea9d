"""Payload schemas of the call routes: what Twilio (or a Studio flow) posts at each step.

Each schema sets the event's idempotency key (CallSid + the request's
``key_step``, RecordingSid, TranscriptionSid), its mailbox (the hotline
number called) and its supporter key (the caller on that hotline, shared
with SMS so one supporter's jobs run one at a time). Which plugin answers
a request is the route's ``chain`` in routes.toml, nothing here.

Twilio's recording status callback carries no From/To, and a ``<Dial>``
leg's own From/To are the hotline and the agent's phone, so Bling puts the
caller and hotline into the query of those callback URLs; Twilio signs the
whole URL, so the query is as trustworthy as the form. ``query`` below maps
those parameters into the event.
"""

from __future__ import annotations

import hashlib
import re

from marshmallow import fields, post_load, pre_load, validate

from . import call_twiml
from bling.hookspecs import hookimpl
from bling.phones import to_e164
from bling.payloads import STATUS_WORD, TWILIO_SID, EventSchema, optional_sid

CALL_SID = validate.Regexp(TWILIO_SID.format(prefix="CA"), error="not a Twilio call SID")
ACCOUNT_SID = validate.Regexp(TWILIO_SID.format(prefix="AC"), error="not a Twilio account SID")
RECORDING_SID = validate.Regexp(TWILIO_SID.format(prefix="RE"), error="not a Twilio recording SID")
TRANSCRIPTION_SID = validate.Regexp(TWILIO_SID.format(prefix="TR"), error="not a Twilio transcription SID")
PHONE_TEXT = validate.Length(min=1, max=64)
URL_TEXT = validate.Length(min=1, max=2000)
DIGITS = validate.Regexp(r"^([0-9*#]{0,32}|hangup)$", error="not keypad digits")  # <Record>: the finishing key or "hangup"
OPTIONAL_CALL_SID = optional_sid("CA", "call")
OPTIONAL_RECORDING_SID = optional_sid("RE", "recording")
_RECORDING_IN_URL = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})")
#: The query parameters Bling adds to its own callback URLs.
CALLER_QUERY = {"caller": "BlingCaller", "hotline": "BlingHotline"}


def supporter_of(event: dict) -> str:
    """The caller on this hotline, in the same form as an SMS event's supporter key."""
    return f"{to_e164(event['hotline'])}|{to_e164(event['caller']) or event['caller']}"


def _blank_to_missing(data, names: tuple[str, ...]) -> dict:
    """Twilio sends some numeric fields empty; treat those as absent."""
    return {k: v for k, v in dict(data).items() if not (k in names and v == "")}


class _HotlineSchema(EventSchema):
    """Finds the mailbox by the hotline number and the supporter by the caller."""

    def locate(self, event, settings):
        number = to_e164(event["hotline"])
        return settings.mailbox_for("twilio", number) if number else None

    def supporter_key(self, event, settings):
        return supporter_of(event)


class CallSchema(_HotlineSchema):
    """A request about the caller's own call (the parent leg): From is the caller."""

    #: The last part of the idempotency key (``twilio:call:<CallSid>:<key_step>``): one event per request kind.
    key_step = ""

    call_sid = fields.String(data_key="CallSid", required=True, validate=CALL_SID)
    account_sid = fields.String(data_key="AccountSid", required=True, validate=ACCOUNT_SID)
    caller = fields.String(data_key="From", required=True, validate=PHONE_TEXT)
    hotline = fields.String(data_key="To", required=True, validate=PHONE_TEXT)
    call_status = fields.String(data_key="CallStatus", load_default="", validate=STATUS_WORD)

    def idempotency_key(self, event):
        return f"twilio:call:{event['call_sid']}:{self.key_step}"

    def ignored_answer(self, event) -> str:
        """An unknown hotline number hears a short apology, not Twilio's "application error"."""
        return call_twiml.apology()


class IncomingCallSchema(CallSchema):
    """Twilio's "A call comes in" webhook."""

    key_step = "incoming"


class VoicemailOfferSchema(CallSchema):
    """The voicemail step a call is redirected to when nobody answers (or after hours).

    Its background job waits for the call to end, so it has a key of its own
    (``call:<CallSid>``): it must not hold up the supporter's other jobs —
    the voicemail itself among them.
    """

    key_step = "voicemail"

    def supporter_key(self, event, settings):
        return f"call:{event['call_sid']}"


class DialDoneSchema(CallSchema):
    """The ``<Dial action>``: how ringing the group ended."""

    key_step = "dial_done"
    dial_call_status = fields.String(data_key="DialCallStatus", required=True, validate=STATUS_WORD)
    dial_call_sid = fields.String(data_key="DialCallSid", load_default="", validate=OPTIONAL_CALL_SID)
    dial_call_duration = fields.Integer(data_key="DialCallDuration", load_default=0, validate=validate.Range(min=0, max=10**7))
    dial_bridged = fields.String(data_key="DialBridged", load_default="", validate=validate.Regexp(r"^(|true|false)$", re.IGNORECASE, error="not true or false"))

    @pre_load
    def _blanks(self, data, **_kwargs):
        return _blank_to_missing(data, ("DialCallDuration",))

    @post_load
    def _answered(self, data, **_kwargs):
        """Connected only when Twilio says it bridged (a screened-out leg is "completed" too)."""
        bridged = data["dial_bridged"].lower()
        data["answered"] = bridged == "true" if bridged else data["dial_call_status"] == "completed"
        return data


class RecordDoneSchema(CallSchema):
    """The ``<Record action>``: the caller finished (or hung up during) the voicemail."""

    key_step = "record_done"
    recording_sid = fields.String(data_key="RecordingSid", load_default="", validate=OPTIONAL_RECORDING_SID)
    recording_duration = fields.Integer(data_key="RecordingDuration", load_default=0, validate=validate.Range(min=0, max=10**7))
    digits = fields.String(data_key="Digits", load_default="", validate=DIGITS)

    @pre_load
    def _blanks(self, data, **_kwargs):
        return _blank_to_missing(data, ("RecordingDuration",))


class ScreenSchema(_HotlineSchema):
    """The whisper on an answering phone's leg; caller and hotline come from Bling's query."""

    key_step = "screen"
    query = CALLER_QUERY
    call_sid = fields.String(data_key="CallSid", required=True, validate=CALL_SID)
    account_sid = fields.String(data_key="AccountSid", required=True, validate=ACCOUNT_SID)
    parent_call_sid = fields.String(data_key="ParentCallSid", load_default="", validate=OPTIONAL_CALL_SID)
    agent = fields.String(data_key="To", load_default="", validate=validate.Length(max=64))
    caller = fields.String(data_key="BlingCaller", required=True, validate=PHONE_TEXT)
    hotline = fields.String(data_key="BlingHotline", required=True, validate=PHONE_TEXT)
    digits = fields.String(data_key="Digits", load_default="", validate=DIGITS)

    def idempotency_key(self, event):
        return f"twilio:call:{event['call_sid']}:{self.key_step}"

    def ignored_answer(self, event) -> str:
        return call_twiml.hang_up()


class AcceptSchema(ScreenSchema):
    """The whisper's ``<Gather action>``: the answering phone pressed a key."""

    key_step = "accept"


class RecordingSchema(_HotlineSchema):
    """Twilio's ``recordingStatusCallback`` for the voicemail ``<Record>``."""

    query = CALLER_QUERY
    recording_sid = fields.String(data_key="RecordingSid", required=True, validate=RECORDING_SID)
    recording_url = fields.String(data_key="RecordingUrl", required=True, validate=URL_TEXT)
    status = fields.String(data_key="RecordingStatus", load_default="completed", validate=STATUS_WORD)
    duration = fields.Integer(data_key="RecordingDuration", load_default=0, validate=validate.Range(min=0, max=10**7))
    call_sid = fields.String(data_key="CallSid", load_default="", validate=OPTIONAL_CALL_SID)
    account_sid = fields.String(data_key="AccountSid", required=True, validate=ACCOUNT_SID)
    caller = fields.String(data_key="BlingCaller", required=True, validate=PHONE_TEXT)
    hotline = fields.String(data_key="BlingHotline", required=True, validate=PHONE_TEXT)

    @pre_load
    def _blanks(self, data, **_kwargs):
        return _blank_to_missing(data, ("RecordingDuration",))

    def idempotency_key(self, event):
        return recording_key(event["recording_sid"])


class StudioVoicemailSchema(_HotlineSchema):
    """The original voicemail endpoint (route ``twilio-voicemail``): a Studio flow's request after its Record widget.

    Fields as the original documented them (lower case): ``to``, ``from``,
    ``recording`` (the recording URL), ``length`` (seconds), and optionally
    ``RecordingSid`` and ``CallSid``. Without a RecordingSid it is read from
    the recording URL, so a Twilio callback for the same recording is the
    same event.
    """

    hotline = fields.String(data_key="to", required=True, validate=PHONE_TEXT)
    caller = fields.String(data_key="from", required=True, validate=PHONE_TEXT)
    recording_url = fields.String(data_key="recording", required=True, validate=URL_TEXT)
    duration = fields.Integer(data_key="length", load_default=0, validate=validate.Range(min=0, max=10**7))
    recording_sid = fields.String(data_key="RecordingSid", load_default="", validate=OPTIONAL_RECORDING_SID)
    call_sid = fields.String(data_key="CallSid", load_default="", validate=OPTIONAL_CALL_SID)

    @pre_load
    def _blanks(self, data, **_kwargs):
        return _blank_to_missing(data, ("length", "RecordingSid", "CallSid"))

    @post_load
    def _complete(self, data, **_kwargs):
        if not data["recording_sid"]:
            found = _RECORDING_IN_URL.search(data["recording_url"])
            data["recording_sid"] = found.group(1) if found else ""
        data["status"] = "completed"
        return data

    def idempotency_key(self, event):
        if event["recording_sid"]:
            return recording_key(event["recording_sid"])
        if event["call_sid"]:
            return f"twilio:call:{event['call_sid']}:studio_voicemail"
        return "studio:voicemail:" + hashlib.sha256(event["recording_url"].encode()).hexdigest()[:32]


class TranscriptionSchema(_HotlineSchema):
    """Twilio's ``transcribeCallback`` (Bling's ``<Record>`` and Studio flows alike).

    Its supporter key is the recording's own, so while it waits for the
    voicemail to be posted it holds up nothing else of the supporter's.
    """

    transcription_sid = fields.String(data_key="TranscriptionSid", required=True, validate=TRANSCRIPTION_SID)
    status = fields.String(data_key="TranscriptionStatus", required=True, validate=STATUS_WORD)
    text = fields.String(data_key="TranscriptionText", load_default="", validate=validate.Length(max=20000))
    recording_sid = fields.String(data_key="RecordingSid", load_default="", validate=OPTIONAL_RECORDING_SID)
    recording_url = fields.String(data_key="RecordingUrl", load_default="", validate=validate.Length(max=2000))
    call_sid = fields.String(data_key="CallSid", load_default="", validate=OPTIONAL_CALL_SID)
    account_sid = fields.String(data_key="AccountSid", required=True, validate=ACCOUNT_SID)
    caller = fields.String(data_key="From", required=True, validate=PHONE_TEXT)
    hotline = fields.String(data_key="To", required=True, validate=PHONE_TEXT)

    def idempotency_key(self, event):
        return f"twilio:transcription:{event['transcription_sid']}"

    def supporter_key(self, event, settings):
        return f"recording:{event['recording_sid'] or event['transcription_sid']}"


def recording_key(recording_sid: str) -> str:
    """The idempotency key of a voicemail recording (Twilio callback or Studio alike)."""
    return f"twilio:recording:{recording_sid}"


@hookimpl
def bling_schemas():
    return {
        "twilio_call": IncomingCallSchema,
        "twilio_voicemail_offer": VoicemailOfferSchema,
        "twilio_dial_done": DialDoneSchema,
        "twilio_record_done": RecordDoneSchema,
        "twilio_screen": ScreenSchema,
        "twilio_screen_accept": AcceptSchema,
        "twilio_recording": RecordingSchema,
        "twilio_transcription": TranscriptionSchema,
        "studio_voicemail": StudioVoicemailSchema,
    }
