"""Send SMS for ``mobilecommons:<campaign id>:<mailbox>`` mailboxes, through Mobile Commons.

The text goes out in the mailbox's campaign (``send_message``). After an
ambiguous send, the supporter's profile history is read for the same body
sent in that campaign since the attempt, so a retry never texts twice.
Inbound texts come from ``bling mobilecommons load`` (Mobile Commons cannot
sign webhooks). Mobile Commons sends text only: a send with attachments is
refused, and the agent's note says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bling.hookspecs import hookimpl
from .client import MobileCommonsClient, MobileCommonsRefused

TRANSPORT = "mobilecommons"
#: Clock skew allowed between Bling and Mobile Commons when matching an earlier send.
SKEW = timedelta(seconds=120)


def client(context) -> MobileCommonsClient:
    """A client for the account in settings (MOBILECOMMONS_USERNAME/PASSWORD)."""
    return MobileCommonsClient.from_settings(context.settings)


@hookimpl
def transport_send_sms(context, mailbox, to, body, media_urls):
    if mailbox is None or mailbox.transport != TRANSPORT:
        return None
    if media_urls:
        raise MobileCommonsRefused(f"{len(media_urls)} attachment(s) for a Mobile Commons mailbox",
                                   explanation="the hotline texts through Mobile Commons, which sends text only, "
                                               "so the attachments were not sent")
    return client(context).send_message(mailbox.address, to, body).id


@hookimpl
def transport_find_sms(context, mailbox, to, body, since):
    if mailbox is None or mailbox.transport != TRANSPORT:
        return None
    try:
        history = client(context).profile(to, include_messages=True).messages
    except MobileCommonsRefused:  # no profile: nothing was ever sent to this phone
        return []
    earliest = datetime.fromtimestamp(since, timezone.utc) - SKEW
    return [m.id for m in history
            if m.outgoing and m.campaign_id == mailbox.address and m.body.strip() == body.strip()
            and m.when is not None and m.when >= earliest]
