"""Twilio's "primary handler fails" answer for texts, served by Bling itself.

Twilio calls the number's SMS fallback URL when the SMS route (``twilio-sms``) fails
(5xx, timeout). A TwiML Bin cannot be created through the API, so
``bling provision`` points the fallback here. The answer is rendered from
configuration only, so it works while the store is down (the usual reason
the primary failed): the supporter is texted the mailbox's
``failure_reply``. If the store *is* reachable and already holds the text
(the primary answered too late), the answer is empty: it was received.
Nor is anything sent to a supporter who opted out of the hotline (plugin
``opt_out``'s record in the store), or for a STOP or START text itself:
Twilio would block the first and confirms the others on its own. A text
that was neither recorded nor answered here is picked up later by
``bling reconcile`` (which also records a STOP it carries).
"""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse

from bling.hookspecs import hookimpl
from .opt_outs import classify, hotline_key
from bling.phones import to_e164
from .state import is_opted_out


@hookimpl
def handle_event(context, event):
    key = f"twilio:sms:{event['message_sid']}"
    if classify(event["body"], event.get("opt_out_type")) in ("stop", "start"):
        return str(MessagingResponse())  # Twilio answers these keywords itself
    try:
        if context.store.has_key(key) or _opted_out(context, event):
            return str(MessagingResponse())
    except Exception:  # the store is down: exactly the case this route is for
        context.logger.warning("fallback for %s: store unreachable, telling the supporter", key)
    reply = MessagingResponse()
    reply.message(context.mailbox_options.failure_reply)
    return str(reply)


def _opted_out(context, event) -> bool:
    """Did this supporter opt out of this hotline (as far as the store knows)?"""
    phone = to_e164(event["from_"])
    return bool(context.mailbox and phone and is_opted_out(context.store, hotline_key(context.mailbox), phone))
