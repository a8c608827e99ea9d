"""Text an agent's Help Scout reply to the supporter, then note the outcome.

Only for ``phone`` conversations in a configured mailbox whose newest
thread is an agent's published reply written in the web UI. The reply is
cleaned to plain text (HTML, entities and signature removed), sent from
the mailbox's number (split at word boundaries past 1,600 characters),
and a note — never a reply, which would e-mail the blackhole address —
tells the agent it was sent or why not.

The reply's attachments go with its first part as MMS media when the
hotline can send MMS (plugins/sms/media.py; ``send_mms`` in BLING_CONFIG); the note
names any that were not sent and why. A new phone conversation an agent
starts (``convo.created`` whose first thread is the agent's reply) is
texted the same way: the phone comes from the customer. For a conversation
Bling threads, the supporter's own number (the conversation map) wins over
the customer's other phones.

Options (routes.toml ``[route.options.agent_reply]``): ``sources``, the
thread ``source.type`` values accepted (default ``["web"]``).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bling.clients.conversations import add_note
from bling.errors import TransportError
from bling.hookspecs import hookimpl
from .media import reply_attachments, reply_media
from bling.phones import pretty
from bling.payloads import customer_phone, newest_thread
from .text import html_to_text, split_sms

AGENT_REPLY_EVENT = "convo.agent.reply.created"
AGENT_STARTED_EVENT = "convo.created"  # an agent's new phone conversation: its first thread is the reply
REPLY_TYPES = {"message", "reply"}


class Options(Schema):
    """``[route.options.agent_reply]`` in routes.toml (loaded at start-up; any other key stops it)."""

    #: Thread ``source.type`` values whose replies are texted ("mobile" adds the Help Scout app).
    sources = fields.List(fields.String(validate=validate.Length(min=1)), load_default=lambda: ["web"],
                          validate=validate.Length(min=1, error="name at least one source"))


def skip_reason(context, thread: dict) -> str | None:
    """Why this thread must not be texted, or None if it should be."""
    sources = context.options("agent_reply")["sources"]
    if thread.get("type") not in REPLY_TYPES:
        return f"newest thread is a {thread.get('type') or 'untyped'} thread, not an agent reply"
    if thread.get("state", "published") != "published":
        return f"reply is {thread.get('state')}, not published"
    if (thread.get("created_by") or thread.get("createdBy") or {}).get("type", "user") != "user":
        return "reply was not written by an agent"
    if (thread.get("source") or {}).get("type") not in sources:
        return f"reply came from {(thread.get('source') or {}).get('type') or 'an unknown source'}, not {', '.join(sources)}"
    if not html_to_text(thread.get("body") or "") and not reply_attachments(thread):
        return "reply is empty once cleaned"
    return None


@hookimpl
def triage_event(context, event):
    if event["event_name"] not in (AGENT_REPLY_EVENT, AGENT_STARTED_EVENT):
        return f"event {event['event_name'] or '(none)'} is not an agent reply"
    if event["type"] != "phone":
        return f"conversation type is {event['type'] or 'unknown'}, not phone"
    thread = newest_thread(event)
    return skip_reason(context, thread) if thread is not None else None


@hookimpl
def handle_event(context, event):
    conversation_id = event["id"]
    context.state["conversation_id"] = conversation_id
    thread = newest_thread(event) or _fetch_newest(context, conversation_id)
    reason = skip_reason(context, thread) if thread else "the conversation has no threads"
    if reason:
        context.state["skipped"] = reason
        return None
    phone = _supporter_phone(context, event)
    if phone is None:
        add_note(context, "note", conversation_id,
                 "Bling did not send this reply as an SMS: the customer has no phone number.")
        return None
    context.state["supporter"] = phone
    media, media_note = reply_media(context, thread)
    parts = split_sms(html_to_text(thread.get("body") or "")) or ([""] if media else [])
    if not parts:
        add_note(context, "note", conversation_id, f"Bling did not send this reply as an SMS: it has no text. {media_note or ''}".strip())
        return None
    sids = []
    try:
        for index, part in enumerate(parts):
            sids.append(context.send_sms_once(f"sms:{index}", phone, part, media if index == 0 else None))
    except TransportError as ex:
        if not ex.permanent:
            raise
        context.state["sms_error"] = ex.code
        sent = f" ({len(sids)} of {len(parts)} parts were sent)" if sids else ""
        add_note(context, "note", conversation_id,
                 f"Bling could not send this reply as an SMS to {pretty(phone)}: {ex.explanation}.{sent}")
        return None
    context.state["sms_sids"] = sids
    in_parts = f" in {len(parts)} parts" if len(parts) > 1 else ""
    with_media = f" with {len(media)} attachment{'s' if len(media) > 1 else ''} (MMS)" if media else ""
    add_note(context, "note", conversation_id, f"Bling sent this reply as an SMS to {pretty(phone)}{in_parts}{with_media}."
             + (f" {media_note}" if media_note else ""))
    return sids


@hookimpl
def handle_failure(context, event, error):
    add_note(context, "failure_note", event["id"],
             "Bling could not send this reply as an SMS: the text service or Help Scout kept failing. "
             "An operator can replay it with `bling jobs replay`.")


def _fetch_newest(context, conversation_id: int) -> dict | None:
    threads = context.helpscout.list_threads(conversation_id)
    if not threads:
        return None
    return max(threads, key=lambda t: (t.get("createdAt") or "", t["id"]))


def _supporter_phone(context, event) -> str | None:
    """The number Bling threads this conversation for, else the customer's: payload,
    blackhole address, or (one GET) the customer record."""
    domain = context.settings.blackhole_domain
    phone = context.store.phone_for_conversation(event["mailbox_id"], event["id"]) \
        or customer_phone(event["customer"], domain)
    if phone is None and event["customer"].get("id"):
        phone = customer_phone(context.helpscout.get_customer(event["customer"]["id"]), domain)
    return phone
