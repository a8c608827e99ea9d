"""The SMS feature's per-mailbox options (BLING_CONFIG), with their defaults and checks."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

DEFAULT_AUTO_REPLY = "We've received your message and will get back to you shortly."
DEFAULT_FAILURE_REPLY = (
    "Sorry, we could not receive your message. Please try again later or call us instead."
)
DEFAULT_AFTER_HOURS_REPLY = (
    "Thanks for your message. We're closed right now and will answer when we're back."
)
#: Twilio's own MMS cap; larger inbound media are linked instead of attached.
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


class SmsOptions(Schema):
    """auto_reply, failure_reply, after_hours_reply, send_mms, attachment_max_bytes."""

    class Meta:
        unknown = RAISE

    auto_reply = fields.String(load_default=DEFAULT_AUTO_REPLY, validate=validate.Length(max=1600))
    failure_reply = fields.String(load_default=DEFAULT_FAILURE_REPLY, validate=validate.Length(min=1, max=1600))
    # outside ``hours``; once a local day; "" turns it off
    after_hours_reply = fields.String(load_default=DEFAULT_AFTER_HOURS_REPLY, validate=validate.Length(max=1600))
    # agent attachments as MMS; None: yes for US/Canada hotline numbers
    send_mms = fields.Boolean(load_default=None, allow_none=True)
    # larger inbound media stay links
    attachment_max_bytes = fields.Integer(load_default=DEFAULT_ATTACHMENT_MAX_BYTES,
                                          validate=validate.Range(min=0, max=20 * 1024 * 1024))
