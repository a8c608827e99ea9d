"""WhatsApp: Twilio's WhatsApp senders into the same Help Scout mailboxes (issue 16)."""

from bling.hookspecs import hookimpl

#: Modules that are plugins in their own right.
PLUGINS = ()


# -- set-up: bling provision / bling check --live (plugins/whatsapp/provisioning.py) --------------

@hookimpl
def bling_provision(services, mailboxes):
    from .provisioning import plan_senders

    return plan_senders(services, mailboxes)
