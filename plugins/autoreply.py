"""Text a first-time supporter the mailbox's ``auto_reply`` (once, ever, per event).

Runs after ``inbound_sms``, which says whether this was the supporter's
first contact with the mailbox. An empty ``auto_reply`` in BLING_CONFIG
turns it off for that mailbox.
"""

from __future__ import annotations

from bling.hookspecs import hookimpl
from bling.twilio_api import TwilioSendError


@hookimpl
def handle_event(context, event):
    phone = context.state.get("supporter")
    text = context.mailbox_options.auto_reply.strip()
    if not phone or not text or not context.state.get("first_contact"):
        return None
    try:
        context.state["auto_reply_sid"] = context.send_sms_once("auto_reply", phone, text)
    except TwilioSendError as ex:
        if not ex.permanent:
            raise  # retried later; the thread already posted is not repeated
        # The text is safely in Help Scout; a refused auto-reply is not a failure of it.
        context.state["auto_reply_error"] = ex.explanation
        context.logger.warning("auto-reply to %s refused: %s", phone, ex.explanation)
        return None
    return context.state["auto_reply_sid"]
