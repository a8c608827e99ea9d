"""In the status route's chain (``twilio-sms-status``), before ``delivery_status``: WhatsApp's window.

When a WhatsApp message fails with 63016 (outside the 24-hour window; the
usual way Twilio reports it, in the status callback rather than at send),
Bling believes Twilio: the supporter's window is marked closed, so the next
reply goes as the template or is not sent, and ``delivery_status``'s one
failure note gets a sentence saying when the window closed and what to do
(``state['failure_detail']``). Other statuses, and SMS, pass untouched.
"""

from __future__ import annotations

from bling.hookspecs import hookimpl
from bling.phones import to_e164

from . import TRANSPORT
from .window import OUTSIDE_WINDOW_CODE, describe, record_refusal, window

FAILED = frozenset({"failed", "undelivered"})


@hookimpl
def handle_event(context, event):
    mailbox = context.mailbox
    if mailbox is None or mailbox.transport != TRANSPORT or event["message_status"] not in FAILED:
        return None
    if event["error_code"] != OUTSIDE_WINDOW_CODE:
        return None
    phone = to_e164(event["to"]) or event["to"]
    record_refusal(context.store, mailbox.address, phone)
    options = context.settings.options(mailbox)
    advice = ("Replies go as the mailbox's WhatsApp template until they write again."
              if options.whatsapp_template_sid else
              "Until they write on WhatsApp again, only an approved template can reach them: set "
              "whatsapp_template_sid for this mailbox in BLING_CONFIG, or reach them another way.")
    context.state["failure_detail"] = f"On WhatsApp, {describe(window(context.store, mailbox.address, phone), options.timezone)}. {advice}"
    return None
