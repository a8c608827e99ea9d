"""First step of the ``twilio-whatsapp`` chain: the supporter wrote, so their 24-hour window opens.

It runs before anything that may fail (Help Scout), so the window is known
even when the message's thread has to be retried; the time is when Bling
accepted the message (the inbox row), not when a worker got to it.
"""

from __future__ import annotations

from bling.hookspecs import hookimpl
from bling.phones import to_e164

from . import TRANSPORT
from .window import record_inbound


@hookimpl
def handle_event(context, event):
    phone = to_e164(event.get("from_"))
    if context.mailbox is None or context.mailbox.transport != TRANSPORT or not phone:
        return None
    row = context.store.get(context.inbox_id) if context.inbox_id is not None else None
    received = row["created_at"] if row else context.store.clock()
    closes = record_inbound(context.store, context.mailbox.address, phone, received)
    context.state["whatsapp_window_closes_at"] = closes
    return None
