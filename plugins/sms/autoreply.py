"""Text a first-time supporter the mailbox's ``auto_reply`` (once, ever, per event).

Runs after ``inbound_sms``, which says whether this was the supporter's
first contact with the mailbox. An empty ``auto_reply`` in BLING_CONFIG
turns it off for that mailbox. Events that carry ``no_auto_reply`` (a
back-fill, e.g. ``bling mobilecommons load --no-auto-reply``) never text:
the supporter wrote long ago and may have been answered since. A text
that got the after-hours reply (plugin ``after_hours``, earlier in the
chain) gets no auto-reply as well.
"""

from __future__ import annotations

from bling.hookspecs import hookimpl
from bling.errors import TransportError


@hookimpl
def handle_event(context, event):
    phone = context.state.get("supporter")
    text = context.mailbox_options.auto_reply.strip()
    if not phone or not text or not context.state.get("first_contact"):
        return None
    if event.get("no_auto_reply"):
        context.state["auto_reply_skipped"] = "back-fill: loaded with --no-auto-reply"
        return None
    if context.state.get("after_hours_sid"):
        context.state["auto_reply_skipped"] = "the after-hours reply was sent instead"
        return None
    try:
        context.state["auto_reply_sid"] = context.send_sms_once("auto_reply", phone, text)
    except TransportError as ex:
        if not ex.permanent:
            raise  # retried later; the thread already posted is not repeated
        # The text is safely in Help Scout; a refused auto-reply is not a failure of it.
        context.state["auto_reply_error"] = ex.explanation
        context.logger.warning("auto-reply to %s refused: %s", phone, ex.explanation)
        return None
    return context.state["auto_reply_sid"]
