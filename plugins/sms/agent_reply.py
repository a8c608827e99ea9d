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

The reply goes back on the channel the supporter last wrote on to this
mailbox (recorded by ``inbound_sms``, ``bling/store/supporters.py``): when
that was another transport than the mailbox's first BLING_MAILBOXES entry
(e.g. ``whatsapp:`` beside ``twilio:``), it is sent through that entry; on
the same transport, or with nothing recorded, through the first entry, as
always. A transport's refusal (opted out, WhatsApp's closed window) is a
permanent TransportError whose explanation the note gives; a sentence the
transport leaves in ``state['transport_note']`` (sent as a WhatsApp
template) is added to the note.

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
from bling.store.supporters import last_channel
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
    """Why this thread must not be texted, or None if it should be (the job's whole check)."""
    reason = not_a_textable_reply(context, thread)
    if reason is None and not html_to_text(thread.get("body") or "") and not reply_attachments(thread):
        return "reply is empty once cleaned"
    return reason


def not_a_textable_reply(context, thread: dict) -> str | None:
    """The checks on the thread's fields alone, which the webhook's triage makes.

    Whether the reply has text is left to the job: it means parsing the HTML,
    and a web process never loads an HTML parser (bs4 and its charset
    detection: 8 MB in each web process, bench/README.md).
    """
    sources = context.options("agent_reply")["sources"]
    if thread.get("type") not in REPLY_TYPES:
        return f"newest thread is a {thread.get('type') or 'untyped'} thread, not an agent reply"
    if thread.get("state", "published") != "published":
        return f"reply is {thread.get('state')}, not published"
    if (thread.get("created_by") or thread.get("createdBy") or {}).get("type", "user") != "user":
        return "reply was not written by an agent"
    if (thread.get("source") or {}).get("type") not in sources:
        return f"reply came from {(thread.get('source') or {}).get('type') or 'an unknown source'}, not {', '.join(sources)}"
    return None


@hookimpl
def triage_event(context, event):
    if event["event_name"] not in (AGENT_REPLY_EVENT, AGENT_STARTED_EVENT):
        return f"event {event['event_name'] or '(none)'} is not an agent reply"
    if event["type"] != "phone":
        return f"conversation type is {event['type'] or 'unknown'}, not phone"
    thread = newest_thread(event)
    return not_a_textable_reply(context, thread) if thread is not None else None


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
    sender = reply_channel(context, phone)
    if sender != context.mailbox:
        context.state["channel"] = f"{sender.transport}:{sender.address}"
    on = on_channel(sender)
    media, media_note = reply_media(context, thread, sender)
    parts = split_sms(html_to_text(thread.get("body") or "")) or ([""] if media else [])
    if not parts:
        add_note(context, "note", conversation_id, f"Bling did not send this reply {on}: it has no text. {media_note or ''}".strip())
        return None
    sids = []
    try:
        for index, part in enumerate(parts):
            sids.append(context.send_sms_once(f"sms:{index}", phone, part, media if index == 0 else None, mailbox=sender))
    except TransportError as ex:
        if not ex.permanent:
            raise
        context.state["sms_error"] = ex.code
        sent = f" ({len(sids)} of {len(parts)} parts were sent)" if sids else ""
        add_note(context, "note", conversation_id,
                 f"Bling could not send this reply {on} to {pretty(phone)}: {ex.explanation}.{sent}")
        return None
    context.state["sms_sids"] = sids
    in_parts = f" in {len(parts)} parts" if len(parts) > 1 else ""
    kind = " (MMS)" if sender.channel == "SMS" else ""
    with_media = f" with {len(media)} attachment{'s' if len(media) > 1 else ''}{kind}" if media else ""
    extra = [sentence for sentence in (context.state.get("transport_note"), media_note) if sentence]
    add_note(context, "note", conversation_id, f"Bling sent this reply {on} to {pretty(phone)}{in_parts}{with_media}."
             + "".join(f" {sentence}" for sentence in extra))
    return sids


def reply_channel(context, phone: str):
    """The BLING_MAILBOXES entry to answer on: the supporter's last channel to this mailbox if it is
    another transport than the event's entry (the mailbox's first), else the event's entry."""
    default = context.mailbox
    last = last_channel(context.store, default.mailbox_id, phone)
    if not last or last["transport"] == default.transport:
        return default
    same_mailbox = [m for m in context.settings.mailboxes
                    if m.transport == last["transport"] and m.mailbox_id == default.mailbox_id]
    exact = [m for m in same_mailbox if m.address == last["address"]]
    return (exact or same_mailbox or [default])[0]  # an entry since removed: another of its transport, else the default


def on_channel(mailbox) -> str:
    """'as an SMS' or 'on WhatsApp': how a note names the channel a reply went on."""
    return "as an SMS" if mailbox.channel == "SMS" else f"on {mailbox.channel}"


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
