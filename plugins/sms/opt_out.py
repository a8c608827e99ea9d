"""STOP and START: record who opted out of a hotline, and never text them.

In the SMS chain (after ``inbound_sms``, so the text itself is in Help
Scout): a STOP-family text (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT,
REVOKE, OPTOUT — the whole text, any case, extra spaces and Unicode forms
ignored; or Twilio's ``OptOutType=STOP``) marks the supporter opted out of
that hotline and adds a note to their conversation; a START-family text
(START, YES, UNSTOP) opts them back in with a note. HELP and INFO are
ordinary texts. Keywords: plugins/sms/opt_outs.py. The same serves any transport
(a Mobile Commons campaign too); a keyword whose event says when it was
sent (``received_at``) and that is older than the recorded state — a
back-fill of old messages — changes nothing.

Around every SMS Bling sends, whatever the chain or transport
(``transport_send_sms`` wrapper): a supporter who opted out is not texted
(auto-replies, after-hours replies, failure replies, agent replies: the
sender gets ``OptedOut``, a permanent TransportError, and an agent reply's
note says why). When the transport refuses with Twilio's 21610 (opted out
at the carrier or at Twilio), the opt-out is recorded the same way, with a
note on the conversation.
"""

from __future__ import annotations

from datetime import datetime, timezone

from bling.clients.conversations import add_note
from bling.errors import TransportError
from bling.hookspecs import hookimpl
from .opt_outs import OPTED_OUT_CODE, OptedOut, classify, hotline_key, normalise_keyword
from bling.phones import pretty, to_e164
from .state import is_opted_out, opt_out_row, set_opt_out


@hookimpl
def handle_event(context, event):
    kind = classify(event.get("body"), event.get("opt_out_type"))
    phone = context.state.get("supporter") or to_e164(event.get("from_"))
    if kind not in ("stop", "start") or not phone:
        return None
    sent = parse_time(event.get("received_at"))
    if _older_than_recorded(context, sent, phone):
        context.state["opt_out_skipped"] = "sent before the supporter's recorded opt-out state changed (a back-fill)"
        return None
    keyword = normalise_keyword(event.get("body")) or (event.get("opt_out_type") or "").upper()
    set_opt_out(context.store, hotline_key(context.mailbox), phone, kind == "stop", keyword or kind.upper(), at=sent)
    context.state["opt_out"] = kind
    conversation_id = context.state.get("conversation_id")
    if conversation_id:
        add_note(context, "opt_out_note", conversation_id, _note(context, kind, keyword, phone))
    return kind


@hookimpl
def handle_failure(context, event, error):
    """The text never reached Help Scout, but its STOP or START still counts."""
    kind = classify(event.get("body"), event.get("opt_out_type"))
    phone = to_e164(event.get("from_"))
    sent = parse_time(event.get("received_at"))
    if kind in ("stop", "start") and phone and context.mailbox and not _older_than_recorded(context, sent, phone):
        set_opt_out(context.store, hotline_key(context.mailbox), phone, kind == "stop", kind.upper(), at=sent)


@hookimpl(wrapper=True, tryfirst=True)
def transport_send_sms(context, mailbox, to):
    """Refuse texts to an opted-out supporter; record Twilio's 21610 refusals."""
    if mailbox is not None and is_opted_out(context.store, hotline_key(mailbox), to):
        row = opt_out_row(context.store, hotline_key(mailbox), to)
        raise OptedOut(to, row["changed_at"] if row else None)
    try:
        return (yield)
    except TransportError as ex:
        if mailbox is not None and ex.code == OPTED_OUT_CODE and not isinstance(ex, OptedOut):
            record_refusal(context, mailbox, to)
        raise


def record_refusal(context, mailbox, phone: str) -> None:
    """Twilio says the supporter opted out (21610): note it, then remember it.

    The note comes first: if Help Scout fails now, the retried send meets
    the same refusal and notes it then.
    """
    conversation_id = context.state.get("conversation_id")
    if conversation_id:
        add_note(context, "opt_out_note:21610", conversation_id,
                 f"Twilio refused to text {pretty(phone)} (error 21610): they have opted out of texts from "
                 f"this hotline, {hotline_name(mailbox)}. Bling has recorded it and will send them nothing "
                 "until they text START.")
    set_opt_out(context.store, hotline_key(mailbox), phone, True, "twilio-21610")


def _older_than_recorded(context, sent: float | None, phone: str) -> bool:
    """Was this keyword sent before the supporter's recorded state last changed?

    Only events that say when they were sent (Mobile Commons' ``received_at``,
    which is then recorded as the time of the change) can tell: a back-filled
    STOP from last month must not undo a START Bling has recorded since.
    """
    row = opt_out_row(context.store, hotline_key(context.mailbox), phone) if sent is not None else None
    return bool(row and row["changed_at"] > sent)


def parse_time(value) -> float | None:
    """Epoch seconds of an ISO time (``2026-11-25T11:30:00+00:00``), or None."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def hotline_name(mailbox) -> str:
    """The hotline as agents know it: its number (and channel, if not SMS), else ``<transport>:<address>`` (a campaign)."""
    if not mailbox.number:
        return f"{mailbox.transport}:{mailbox.address}"
    return pretty(mailbox.number) + ("" if mailbox.channel == "SMS" else f" on {mailbox.channel}")


def _note(context, kind: str, keyword: str, phone: str) -> str:
    hotline = hotline_name(context.mailbox)
    if kind == "stop":
        return (f"{pretty(phone)} texted {keyword or 'STOP'}: they have opted out of texts from this hotline, "
                f"{hotline}. Bling will send them nothing, and replies to them are not sent, until they text START.")
    return (f"{pretty(phone)} texted {keyword or 'START'}: they have opted back in to texts from this hotline, "
            f"{hotline}. Replies are sent again.")
