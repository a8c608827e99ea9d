"""Twilio's SMS status callback: its payload schema and where Bling asks for it.

Every SMS Bling sends through Twilio names a ``StatusCallback``: the public
URL (``BLING_PUBLIC_URL``) of the route whose schema is
``twilio_sms_status`` (route ``twilio-sms-status`` in routes.toml). Without
a public URL, or without that route, no callback is asked for: the worker
sends texts outside any request, so it cannot guess its own address.

Messages on Twilio's other channels (WhatsApp) report to the same route:
their ``From``/``To`` are channel addresses (``whatsapp:+14155238886``),
whose prefix names the BLING_MAILBOXES transport the message went out on.
The event keeps the bare numbers in ``from_``/``to`` and the prefix in
``channel`` ("" for SMS).
"""

from __future__ import annotations

import re

from marshmallow import fields, pre_load, validate

from bling.phones import to_e164
from bling.payloads import TWILIO_SID, EventSchema

SCHEMA_NAME = "twilio_sms_status"
#: ``whatsapp:+14155238886`` → ("whatsapp", "+14155238886"): Twilio's channel address.
CHANNEL_ADDRESS = re.compile(r"^(?P<channel>[a-z]{2,20}):(?P<address>.*)$")
#: Statuses on the way to a final one: not stored, not acted on.
INTERMEDIATE_STATUSES = frozenset({"accepted", "scheduled", "queued", "sending"})


class TwilioSmsStatusSchema(EventSchema):
    """A message status callback (``MessageStatus``, ``ErrorCode`` when it failed)."""

    message_sid = fields.String(data_key="MessageSid", required=True,
                                validate=validate.Regexp(TWILIO_SID.format(prefix="(SM|MM)"), error="not a Twilio message SID"))
    account_sid = fields.String(data_key="AccountSid", required=True,
                                validate=validate.Regexp(TWILIO_SID.format(prefix="AC"), error="not a Twilio account SID"))
    message_status = fields.String(data_key="MessageStatus", required=True,
                                   validate=validate.Regexp(r"^[a-z-]{2,20}$", error="not a message status"))
    error_code = fields.Integer(data_key="ErrorCode", load_default=None, allow_none=True)
    from_ = fields.String(data_key="From", required=True, validate=validate.Length(min=1, max=64))
    to = fields.String(data_key="To", required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(load_default="", validate=validate.Regexp(r"^[a-z]{0,20}$"))

    @pre_load
    def drop_empty_error(self, data, **_kwargs):
        """Twilio may send ``ErrorCode=`` (empty) for a message without error."""
        data = dict(data)
        if not str(data.get("ErrorCode", "")).strip():
            data.pop("ErrorCode", None)
        return data

    @pre_load
    def split_channel_address(self, data, **_kwargs):
        """``whatsapp:+1…`` in From/To: the bare numbers, and the channel beside them."""
        data = dict(data)
        data.pop("channel", None)  # only ever taken from the addresses
        for key in ("From", "To"):
            found = CHANNEL_ADDRESS.match(str(data.get(key) or ""))
            if found:
                data[key], data["channel"] = found["address"], found["channel"]
        return data

    def idempotency_key(self, event):
        return f"twilio:sms-status:{event['message_sid']}:{event['message_status']}"

    def locate(self, event, settings):
        number = to_e164(event["from_"])  # Bling sent it: From is the hotline
        return settings.mailbox_for(event.get("channel") or "twilio", number) if number else None

    def supporter_key(self, event, settings):
        # The same key as the supporter's inbound texts (hotline|supporter): one job at a time.
        return f"{to_e164(event['from_'])}|{to_e164(event['to']) or event['to']}"


def status_callback_url(context) -> str | None:
    """The URL Twilio should report delivery to, or None when Bling cannot be reached."""
    base = context.settings.public_base()
    if not base:
        return None
    for chain in context.services.chains:
        if chain.route.schema == SCHEMA_NAME:
            return base + chain.route.path
    return None
