"""Send SMS for ``twilio:`` mailboxes from the hotline number, through Twilio.

Each text asks Twilio to report its delivery to Bling's status route when
Bling knows its public URL (plugins/sms/delivery.py, plugin ``delivery_status``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from .delivery import status_callback_url
from bling.hookspecs import hookimpl


@hookimpl
def transport_send_sms(context, mailbox, to, body, media_urls):
    if mailbox is None or mailbox.transport != "twilio":
        return None
    return context.twilio.send_sms(from_=mailbox.number, to=to, body=body, media_urls=media_urls or None,
                                   status_callback=status_callback_url(context))


@hookimpl
def transport_find_sms(context, mailbox, to, body, since):
    if mailbox is None or mailbox.transport != "twilio":
        return None
    sid = context.twilio.find_sent_message(mailbox.number, to, body, datetime.fromtimestamp(since, timezone.utc))
    return [sid] if sid else []
