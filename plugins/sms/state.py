"""State of the SMS features, kept in their own tables (``tables.py``) in the host's store.

- sent texts: message sid → mailbox, supporter, conversation and Twilio's
  latest delivery status (``bling sms status`` reports it);
- opt-outs: who texted STOP to which hotline (or was refused with 21610);
- after-hours replies: the local day a supporter last got one.

Plain functions over a ``Store`` and its public API (``one``, ``all``,
``scalar``, ``write``, ``upsert``, ``transaction``), which work on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa

from .tables import after_hours_replies, opt_outs, sms_messages

#: Delivery statuses in the order they can follow each other; a late
#: ``sent`` callback never overwrites ``delivered`` (Twilio does not promise order).
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
               "delivered": 4, "undelivered": 4, "failed": 4, "read": 5, "canceled": 4}
FAILED_STATUSES = frozenset({"failed", "undelivered"})


# -- sent texts and their delivery status -------------------------------------


def record_sent(store, sid: str, mailbox_id: int | None, phone: str, conversation_id: int | None,
                body: str) -> None:
    """Remember a text Bling just sent, so its status callback finds its conversation."""
    now = store.clock()
    store.upsert(sms_messages, {"sid": sid}, dict(mailbox_id=mailbox_id, phone=phone, conversation_id=conversation_id),
                 insert_only=dict(preview=(body or "")[:200], status="queued", error_code=None, noted=False,
                                  sent_at=now, updated_at=now))


def sent_message(store, sid: str) -> dict | None:
    return store.one(sa.select(sms_messages).where(sms_messages.c.sid == sid))


def update_status(store, sid: str, status: str, error_code: int | None, *, mailbox_id: int | None,
                  phone: str, conversation_id: int | None) -> dict:
    """Keep Twilio's status for ``sid`` (never going back); return the row as it is now.

    A sid Bling did not record (sent before this feature, or found after an
    ambiguous send) is added with the conversation the caller guessed.
    """
    now = store.clock()
    with store.transaction() as conn:
        row = conn.execute(sa.select(sms_messages).where(sms_messages.c.sid == sid).with_for_update()).mappings().first()
        if row is None:
            conn.execute(sa.insert(sms_messages).values(
                sid=sid, mailbox_id=mailbox_id, phone=phone, conversation_id=conversation_id, preview="",
                status=status, error_code=error_code, noted=False, sent_at=now, updated_at=now))
        elif STATUS_RANK.get(status, 0) >= STATUS_RANK.get(row["status"], 0):
            conn.execute(sa.update(sms_messages).where(sms_messages.c.sid == sid).values(
                status=status, error_code=error_code if error_code is not None else row["error_code"],
                updated_at=now))
        found = conn.execute(sa.select(sms_messages).where(sms_messages.c.sid == sid)).mappings().one()
    return dict(found)


def mark_noted(store, sid: str) -> None:
    """The agent has been told this text failed; never tell them twice."""
    store.write(sa.update(sms_messages).where(sms_messages.c.sid == sid).values(noted=True))


def recent_messages(store, phone: str | None = None, only_failed: bool = False, limit: int = 50) -> list[dict]:
    """Texts Bling sent, newest first (``bling sms status``)."""
    query = sa.select(sms_messages).order_by(sms_messages.c.sent_at.desc()).limit(limit)
    if phone:
        query = query.where(sms_messages.c.phone == phone)
    if only_failed:
        query = query.where(sms_messages.c.status.in_(sorted(FAILED_STATUSES)))
    return store.all(query)


# -- opt-outs -------------------------------------------------------------------


def set_opt_out(store, hotline: str, phone: str, opted_out: bool, source: str, at: float | None = None) -> bool:
    """Record that ``phone`` opted out of (or back in to) ``hotline``; True if that changed.

    ``at`` is when the supporter sent the keyword, when the event says so
    (a Mobile Commons message); otherwise now.
    """
    previous = opt_out_row(store, hotline, phone)
    now = store.clock() if at is None else at
    store.upsert(opt_outs, dict(hotline=hotline, phone=phone), dict(opted_out=opted_out, source=source[:32], changed_at=now))
    was = bool(previous and previous["opted_out"])
    return was != opted_out


def opt_out_row(store, hotline: str, phone: str) -> dict | None:
    return store.one(sa.select(opt_outs).where(opt_outs.c.hotline == hotline, opt_outs.c.phone == phone))


def is_opted_out(store, hotline: str, phone: str) -> bool:
    row = opt_out_row(store, hotline, phone)
    return bool(row and row["opted_out"])


def opted_out_list(store, limit: int = 500) -> list[dict]:
    """Supporters opted out now, most recent first (``bling sms opt-outs``)."""
    query = (sa.select(opt_outs).where(opt_outs.c.opted_out.is_(True))
             .order_by(opt_outs.c.changed_at.desc()).limit(limit))
    return store.all(query)


# -- after-hours replies ------------------------------------------------------------


def after_hours_replied_on(store, mailbox_id: int, phone: str) -> str | None:
    """The local date (YYYY-MM-DD) this supporter last got the after-hours reply."""
    return store.scalar(sa.select(after_hours_replies.c.local_date).where(
        after_hours_replies.c.mailbox_id == mailbox_id, after_hours_replies.c.phone == phone))


def remember_after_hours_reply(store, mailbox_id: int, phone: str, local_date: str) -> None:
    store.upsert(after_hours_replies, dict(mailbox_id=mailbox_id, phone=phone),
                 dict(local_date=local_date, sent_at=store.clock()))
