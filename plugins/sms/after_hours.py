"""Tell a supporter who texts outside business hours when someone will answer.

Runs after ``inbound_sms`` (the text is already in Help Scout) and before
``autoreply``. When the mailbox has ``hours`` (in its ``timezone``; the same
setting calls use) and the text arrived outside them, the supporter gets
the mailbox's ``after_hours_reply`` — at most once per supporter per local
calendar day of the mailbox. It stands in for the first-contact auto-reply
(``autoreply`` skips when it was sent), so nobody gets two texts at once.
An empty ``after_hours_reply`` turns it off; opted-out supporters never get
it (plugin ``opt_out``). The arrival time is when Bling accepted the text,
so a retry hours later decides the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from bling.errors import TransportError
from bling.hookspecs import hookimpl
from .state import after_hours_replied_on, remember_after_hours_reply

EFFECT = "after_hours_reply"


@hookimpl
def handle_event(context, event):
    phone = context.state.get("supporter")
    options = context.mailbox_options
    text = options.after_hours_reply.strip()
    hours = options.business_hours
    if not phone or not text or hours.always_open or event.get("no_auto_reply"):
        return None
    received = received_at(context)
    if hours.is_open(received):
        return None
    today = hours.local_date(received)
    mailbox_id = context.mailbox.mailbox_id
    if after_hours_replied_on(context.store, mailbox_id, phone) == today and not _sent_by_this_event(context):
        context.state["after_hours_skipped"] = f"already sent on {today}"
        return None
    try:
        sid = context.send_sms_once(EFFECT, phone, text)
    except TransportError as ex:
        if not ex.permanent:
            raise
        context.state["after_hours_error"] = ex.explanation
        context.logger.info("after-hours reply to %s not sent: %s", phone, ex.explanation)
        return None
    remember_after_hours_reply(context.store, mailbox_id, phone, today)
    context.state["after_hours_sid"] = sid
    return sid


def received_at(context) -> datetime:
    """When Bling accepted the event (its inbox row), else now."""
    row = context.store.get(context.inbox_id) if context.inbox_id is not None else None
    moment = row["created_at"] if row else context.store.clock()
    return datetime.fromtimestamp(moment, timezone.utc)


def _sent_by_this_event(context) -> bool:
    """A retry of the event that sent today's reply must still count it as sent."""
    if context.inbox_id is None:
        return False
    effect = context.store.effect(context.inbox_id, EFFECT)
    return bool(effect and effect["state"] == "done")
