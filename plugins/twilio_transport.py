"""Send SMS for ``twilio:`` mailboxes from the hotline number, through Twilio."""

from __future__ import annotations

from datetime import datetime, timezone

from bling.hookspecs import hookimpl


@hookimpl
def transport_send_sms(context, mailbox, to, body, media_urls):
    if mailbox is None or mailbox.transport != "twilio":
        return None
    return context.twilio.send_sms(from_=mailbox.number, to=to, body=body, media_urls=media_urls or None)


@hookimpl
def transport_find_sms(context, mailbox, to, body, since):
    if mailbox is None or mailbox.transport != "twilio":
        return None
    sid = context.twilio.find_sent_message(mailbox.number, to, body, datetime.fromtimestamp(since, timezone.utc))
    return [sid] if sid else []
