"""Twilio's "primary handler fails" answer for texts, served by Bling itself.

Twilio calls the number's SMS fallback URL when ``/bling/twilio_sms`` fails
(5xx, timeout). A TwiML Bin cannot be created through the API, so
``bling provision`` points the fallback here. The answer is rendered from
configuration only, so it works while the store is down (the usual reason
the primary failed): the supporter is texted the mailbox's
``failure_reply``. If the store *is* reachable and already holds the text
(the primary answered too late), the answer is empty: it was received.
A text that was neither recorded nor answered here is picked up later by
``bling reconcile``.
"""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse

from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    key = f"twilio:sms:{event['message_sid']}"
    try:
        if context.store.has_key(key):
            return str(MessagingResponse())
    except Exception:  # the store is down: exactly the case this route is for
        context.logger.warning("fallback for %s: store unreachable, telling the supporter", key)
    reply = MessagingResponse()
    reply.message(context.mailbox_options.failure_reply)
    return str(reply)
