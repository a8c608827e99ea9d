"""Post a supporter's text (and MMS media links) into their Help Scout conversation.

Sets ``state['conversation_id']`` and ``state['first_contact']`` for the
plugins after it (``autoreply``). If the text finally cannot reach Help
Scout, the supporter is told once with the mailbox's ``failure_reply``.
"""

from __future__ import annotations

from bling.conversations import post_from_supporter, subject_for
from bling.hookspecs import hookimpl
from bling.phones import to_e164


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
    post_from_supporter(context, phone, thread_text(event), subject_for("SMS", phone))


@hookimpl
def handle_failure(context, event, error):
    phone = to_e164(event["from_"])
    if phone and "conversation_id" not in context.state:  # only if it never reached Help Scout
        context.send_sms_once("failure_reply", phone, context.mailbox_options.failure_reply)


def thread_text(event: dict) -> str:
    """The thread body: the text, then one line per media item (type and URL)."""
    lines = [event["body"].strip()] if event["body"].strip() else []
    if event["media"]:
        lines.append("")
        lines.append("Attachments:")
        lines.extend(f"- {item['content_type']}: {item['url']}" for item in event["media"])
    return "\n".join(lines).strip()
