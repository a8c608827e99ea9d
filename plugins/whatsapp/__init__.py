"""WhatsApp: Twilio's WhatsApp senders into the same Help Scout mailboxes as the hotline's texts.

Mailboxes ``whatsapp:<number>:<mailbox id>`` (the number may also be a
``twilio:`` SMS entry). Inbound messages come to the route ``twilio-whatsapp``
(schema ``twilio_whatsapp``) and run the SMS chain's steps, after
``whatsapp_session`` has opened the supporter's 24-hour customer-service
window; agent replies go out through ``whatsapp_transport`` when the
supporter last wrote on WhatsApp, free-form inside the window and as the
mailbox's approved template (``whatsapp_template_sid``) outside it; status
callbacks reach the SMS status route, where ``whatsapp_status`` says when
the window closed. docs/whatsapp.md is the guide.
"""

from bling.declarations import Transport
from bling.hookspecs import hookimpl

from .schema import SCHEMA_NAME, TwilioWhatsAppSchema

#: Modules that are plugins in their own right (chain steps, the transport).
PLUGINS = ("whatsapp_session", "whatsapp_transport", "whatsapp_status")

#: The BLING_MAILBOXES transport, and the prefix of Twilio's channel addresses (``whatsapp:+1…``).
TRANSPORT = "whatsapp"


@hookimpl
def bling_transports():
    # whatsapp:<number>:<mailbox id>: a Twilio WhatsApp sender (Twilio's API, media URLs and status callbacks)
    return [Transport(TRANSPORT, address="phone", channel="WhatsApp", provider="twilio")]


@hookimpl
def bling_schemas():
    return {SCHEMA_NAME: TwilioWhatsAppSchema}


@hookimpl
def bling_tables():
    from .tables import TABLES

    return list(TABLES)


@hookimpl
def bling_mailbox_options():
    from .options import WhatsAppOptions

    return WhatsAppOptions


# -- set-up: bling provision / bling check --live (plugins/whatsapp/provisioning.py) --------------

@hookimpl
def bling_provision(services, mailboxes):
    from .provisioning import plan_senders

    return plan_senders(services, mailboxes)
