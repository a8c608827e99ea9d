"""Post a supporter's text (and MMS media) into their Help Scout conversation.

MMS media of Twilio mailboxes become real attachments on the thread
(plugins/sms/media.py: downloaded with the account's credentials, up to
``attachment_max_bytes``); media too large or unavailable stay links in the
text, and if Help Scout refuses the upload as too large (413) the thread is
posted with links only. Sets ``state['conversation_id']`` and
``state['first_contact']`` for the plugins after it (``autoreply``). If the
text finally cannot reach Help Scout, the supporter is told once with the
mailbox's ``failure_reply`` — unless the event is a back-fill
(``no_auto_reply``, e.g. ``bling mobilecommons load --no-auto-reply``),
which never texts anyone.

The same step posts the other channels' messages (Mobile Commons, and
WhatsApp: route ``twilio-whatsapp``) into the same supporter's conversation:
the map is per mailbox and phone, whatever the channel. A conversation it
opens is named after the channel ("WhatsApp from (617) 555-0123"); an event
that names its ``channel`` (WhatsApp) gets a last line saying so, with the
sender's ``profile_name`` when given. The channel the supporter wrote on is
recorded for the mailbox (``bling/store/supporters.py``): an agent's reply
goes back on it.
"""

from __future__ import annotations

from bling.clients.conversations import post_from_supporter, subject_for
from bling.clients.helpscout import HelpScoutError
from bling.hookspecs import hookimpl
from .media import Linked, inbound_attachments, linked_lines
from bling.phones import to_e164
from bling.store.supporters import remember_channel

from .opt_out import parse_time


@hookimpl
def triage_event(context, event):
    if to_e164(event["from_"]) is None:
        return f"sender {event['from_']!r} is not a phone number we can answer (short code or hidden)"
    if not event["body"].strip() and not event["media"]:
        return "empty message"
    return None


@hookimpl
def handle_event(context, event):
    phone = to_e164(event["from_"])
    context.state["supporter"] = phone
    mailbox = context.mailbox
    remember_channel(context.store, mailbox.mailbox_id, phone, mailbox.transport, mailbox.address,
                     parse_time(event.get("received_at")))
    subject = subject_for(mailbox.channel, phone)
    if mailbox.provider == "twilio":  # Twilio's media URLs (SMS and WhatsApp) need the account's credentials
        attached, linked = inbound_attachments(context, event["media"])
    else:  # another transport's media URLs are not ours to fetch
        attached, linked = [], [Linked(m["url"], m["content_type"], "") for m in event["media"]]
    try:
        post_from_supporter(context, phone, thread_text(event, linked, len(attached), mailbox.channel), subject,
                            attachments=[attachment for _item, attachment in attached])
    except HelpScoutError as ex:
        if ex.status != 413 or not attached:
            raise
        context.logger.warning("Help Scout refused %d attachment(s) as too large; posting links", len(attached))
        linked += [Linked(item["url"], item["content_type"], "too large for Help Scout") for item, _ in attached]
        post_from_supporter(context, phone, thread_text(event, linked, 0, mailbox.channel), subject)


@hookimpl
def handle_failure(context, event, error):
    if event.get("no_auto_reply"):  # a back-fill: the supporter wrote long ago; texting now would confuse
        context.logger.info("back-fill %s did not reach Help Scout; no failure reply is sent", context.inbox_id)
        return
    phone = to_e164(event["from_"])
    if phone and "conversation_id" not in context.state:  # only if it never reached Help Scout
        context.send_sms_once("failure_reply", phone, context.mailbox_options.failure_reply)


def thread_text(event: dict, linked: list[Linked] | None = None, attached: int = 0, channel: str = "SMS") -> str:
    """The thread body: the text, then one line per medium left as a link (type, URL, why).

    Without ``linked`` every medium is listed (nothing was attached). An
    event that names its channel (WhatsApp) ends with a line saying so.
    """
    if linked is None:
        linked = [Linked(item["url"], item["content_type"], "") for item in event["media"]]
    lines = [event["body"].strip()] if event["body"].strip() else []
    if linked:
        lines += ["", "Attachments:", *linked_lines(linked)]
    if not lines and attached:
        kind = "MMS" if channel == "SMS" else "Message"
        lines = [f"({kind} without text: {attached} attachment{'s' if attached > 1 else ''})"]
    if event.get("channel"):
        profile = " ".join(str(event.get("profile_name") or "").split())
        lines += ["", f"(sent on {channel}" + (f" by “{profile}”)" if profile else ")")]
    return "\n".join(lines).strip()
