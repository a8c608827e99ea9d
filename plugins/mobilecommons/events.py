"""The Mobile Commons route's payload schema.

Mobile Commons cannot sign a request, so no HTTP request may feed Bling a
Mobile Commons text: the route says ``methods = []`` (every request gets
405, and there is no verifier), and ``bling mobilecommons load`` accepts
the messages it fetched itself (authenticated, from Mobile Commons' API)
through ``bling.routing.accept``. The route still lives in routes.toml, so the
chain those texts run is as visible and editable as any other.
"""

from __future__ import annotations

from marshmallow import fields, validate

from bling.hookspecs import hookimpl
from bling.phones import to_e164
from bling.payloads import EventSchema

TRANSPORT = "mobilecommons"


class MobileCommonsMessageSchema(EventSchema):
    """A message a supporter sent to a Mobile Commons campaign (as the loader builds it).

    ``from_``, ``body`` and ``media`` match ``twilio_sms`` so the same
    plugins (``inbound_sms``, ``autoreply``) handle both; ``no_auto_reply``
    marks a back-fill.
    """

    content = "json"

    message_id = fields.String(required=True, validate=validate.Regexp(r"^\w{1,64}$", error="not a message id"))
    campaign_id = fields.String(required=True, validate=validate.Regexp(r"^\w{1,64}$", error="not a campaign id"))
    from_ = fields.String(required=True, validate=validate.Length(min=1, max=64))
    body = fields.String(load_default="", validate=validate.Length(max=4000))
    received_at = fields.String(load_default="")
    profile_id = fields.String(load_default=None, allow_none=True)
    message_type = fields.String(load_default="")
    media = fields.List(fields.Dict(), load_default=list)
    no_auto_reply = fields.Boolean(load_default=False)

    def idempotency_key(self, event):
        return f"mobilecommons:message:{event['message_id']}"

    def locate(self, event, settings):
        return settings.mailbox_for(TRANSPORT, event["campaign_id"])

    def supporter_key(self, event, settings):
        return f"mobilecommons:{event['campaign_id']}|{to_e164(event['from_']) or event['from_']}"


@hookimpl
def bling_schemas():
    return {"mobilecommons_message": MobileCommonsMessageSchema}

