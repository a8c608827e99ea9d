"""The WhatsApp feature's per-mailbox option (BLING_CONFIG): the template for replies outside the window."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

#: A Twilio Content API SID (``HX`` + 32 hex), or "" for none.
TEMPLATE_SID = validate.Regexp(r"^(|HX[0-9a-fA-F]{32})$", error="not a Twilio content SID (HX followed by 32 hex digits)")


class WhatsAppOptions(Schema):
    """whatsapp_template_sid."""

    class Meta:
        unknown = RAISE

    # an approved WhatsApp template (Content API) whose variable {{1}} is the agent's reply; "" sends none
    whatsapp_template_sid = fields.String(load_default="", validate=TEMPLATE_SID)
