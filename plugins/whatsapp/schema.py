"""Twilio's inbound WhatsApp webhook (schema ``twilio_whatsapp``, route ``twilio-whatsapp``).

The same form as an SMS (Twilio's Messaging webhook), with channel
addresses: ``From``/``To`` are ``whatsapp:+E164``. The event carries the
bare numbers in ``from_``/``to``, exactly like ``twilio_sms``, so the SMS
chain's steps run unchanged, plus ``channel = "whatsapp"`` and the sender's
``profile_name`` (WhatsApp display name, may be empty). Media come as
``NumMedia``/``MediaUrlN``/``MediaContentTypeN``, as for MMS. Unknown keys
(``WaId``, ``ButtonPayload``, ``ChannelMetadata`` …) are dropped; the
signature still covers them (the edge checks it before parsing).
"""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, pre_load, validate

from bling.payloads import TwilioSmsSchema
from bling.phones import to_e164

SCHEMA_NAME = "twilio_whatsapp"
PREFIX = "whatsapp:"
_ADDRESS = re.compile(r"^whatsapp:(?P<number>\+?[0-9]{4,20})$", re.IGNORECASE)


class TwilioWhatsAppSchema(TwilioSmsSchema):
    """An inbound WhatsApp message: a Twilio SMS webhook with ``whatsapp:`` addresses and a profile name."""

    channel = fields.Constant("whatsapp")
    profile_name = fields.String(data_key="ProfileName", load_default="", validate=validate.Length(max=256))

    @pre_load
    def bare_numbers(self, data, **_kwargs):
        """``whatsapp:+4915112345678`` → ``+4915112345678``; an address without the prefix is refused."""
        data = dict(data)
        for key in ("From", "To"):
            value = str(data.get(key) or "").strip()
            found = _ADDRESS.match(value)
            if value and not found:
                raise ValidationError(f"not a WhatsApp address (expected 'whatsapp:+<number>'): {value[:40]!r}", key)
            if found:
                data[key] = found["number"]
        return data

    def idempotency_key(self, event):
        return f"twilio:whatsapp:{event['message_sid']}"

    def locate(self, event, settings):
        number = to_e164(event["to"])
        return settings.mailbox_for("whatsapp", number) if number else None
