"""Delivery status of the texts Bling sends: keep it, and tell the agent when one fails.

Around every send (``transport_send_sms`` wrapper) the message sid is
recorded with its supporter and conversation (``state['conversation_id']``).
On the status route (``twilio-sms-status``, schema
``twilio_sms_status``; plugins/sms/delivery.py) each final status is kept —
``bling sms status`` reports it — and a text that ends ``failed`` or
``undelivered`` adds one note to its conversation with the reason in plain
words (Twilio error code → meaning). Delivered texts add nothing. A failure
with 21610 (opted out) also records the opt-out.

Twilio's WhatsApp messages report here too (``whatsapp:`` addresses): their
``read`` receipts are kept like ``delivered`` (``bling sms status`` shows
them; no note, so one reply never gets more than one status note), their
failures are noted the same way, with what an earlier plugin of the chain
adds in ``state['failure_detail']`` (``whatsapp_status``: when the
supporter's 24-hour window closed).
"""

from __future__ import annotations

from bling.clients.conversations import add_note
from .delivery import INTERMEDIATE_STATUSES, SCHEMA_NAME, TwilioSmsStatusSchema
from bling.hookspecs import hookimpl
from .opt_outs import OPTED_OUT_CODE, hotline_key
from bling.phones import pretty, to_e164
from .state import FAILED_STATUSES, mark_noted, record_sent, set_opt_out, update_status
from bling.clients.twilio_api import explain_error


@hookimpl
def bling_schemas():
    return {SCHEMA_NAME: TwilioSmsStatusSchema}


@hookimpl
def triage_event(context, event):
    if event["message_status"] in INTERMEDIATE_STATUSES:
        return f"intermediate status {event['message_status']}"
    return None


@hookimpl
def handle_event(context, event):
    sid, status, code = event["message_sid"], event["message_status"], event["error_code"]
    phone = to_e164(event["to"]) or event["to"]
    mailbox_id = context.mailbox.mailbox_id
    known = context.store.conversation_for(mailbox_id, phone)
    row = update_status(context.store, sid, status, code, mailbox_id=mailbox_id, phone=phone,
                        conversation_id=known["conversation_id"] if known else None)
    context.state["status"] = row["status"]
    if status not in FAILED_STATUSES:
        return None
    if code == OPTED_OUT_CODE:
        set_opt_out(context.store, hotline_key(context.mailbox), phone, True, "twilio-21610")
    conversation_id = row["conversation_id"]
    if row["noted"] or not conversation_id:
        context.logger.info("text %s %s (error %s)%s", sid, status, code, "" if conversation_id else "; no conversation")
        return None
    note = failure_note(row, status, code, context.mailbox.channel, context.state.get("failure_detail"))
    add_note(context, "failure_note", conversation_id, note)
    mark_noted(context.store, sid)
    context.state["conversation_id"] = conversation_id
    return status


def failure_note(row: dict, status: str, code: int | None, channel: str = "SMS", more: str | None = None) -> str:
    """'Bling's text to (617) 555-0123 ("Thanks…") was not delivered: <reason> (Twilio error 30003, undelivered).'

    On another channel it is "Bling's WhatsApp message to …"; ``more`` is a
    sentence an earlier plugin added (``state['failure_detail']``).
    """
    preview = row.get("preview") or ""
    quoted = f' ("{preview[:60]}{"…" if len(preview) > 60 else ""}")' if preview else ""
    reason = explain_error(code, "Twilio gave no reason") if code else "Twilio gave no reason"
    detail = f"Twilio error {code}, {status}" if code else status
    opted = " Bling has recorded the opt-out." if code == OPTED_OUT_CODE else ""
    what = "text" if channel == "SMS" else f"{channel} message"
    return (f"Bling's {what} to {pretty(row['phone'])}{quoted} was not delivered: {reason} ({detail}).{opted}"
            + (f" {more}" if more else ""))


@hookimpl(wrapper=True)
def transport_send_sms(context, mailbox, to, body):
    """Remember which conversation each Twilio message (SMS or WhatsApp) belongs to."""
    sid = yield
    if sid and mailbox is not None and mailbox.provider == "twilio":
        try:
            record_sent(context.store, sid, mailbox.mailbox_id, to, context.state.get("conversation_id"), body)
        except Exception:  # the text is sent: failing here would send it again on retry
            context.logger.exception("could not record sent text %s; its status falls back to the supporter map", sid)
    return sid
