"""Which Help Scout customer a supporter's phone belongs to, cached in the host's store.

Every feature that writes to Help Scout for a supporter (texts, calls,
voicemail, call-backs) asks ``plugins/customer_match.py``, which searches
Help Scout once and keeps the answer here; ``agent_started`` fills it when
an agent starts a conversation. The cache is the host's, beside the
supporter → conversation map, so no feature reaches into another for it.

The channel a supporter last wrote on (per mailbox) is the host's too:
every inbound text feature (SMS, Mobile Commons, WhatsApp) records it and
``agent_reply`` reads it to answer on that channel.
"""

from __future__ import annotations

import sqlalchemy as sa

from bling.store.core import customer_matches, supporter_channels


def cached_match(store, phone: str) -> dict | None:
    """The cached match for ``phone``: ``customer_id`` None means 'searched, none found';
    ``nobody`` true means the search saw no customer at all, not even its blackhole one."""
    return store.one(sa.select(customer_matches).where(customer_matches.c.phone == phone))


def cache_match(store, phone: str, customer_id: int | None, email: str | None, nobody: bool = False) -> None:
    store.upsert(customer_matches, {"phone": phone},
                 dict(customer_id=customer_id, email=email, checked_at=store.clock(), nobody=nobody))


def forget_match(store, phone: str) -> None:
    store.write(sa.delete(customer_matches).where(customer_matches.c.phone == phone))


def remember_channel(store, mailbox_id: int, phone: str, transport: str, address: str, at: float | None = None) -> bool:
    """The supporter at ``phone`` wrote to ``mailbox_id`` on ``transport:address`` at ``at`` (default now).

    An older message than the one recorded (a back-fill, a late retry)
    changes nothing; returns whether the record changed.
    """
    at = store.clock() if at is None else at
    with store.transaction(f"channel:{mailbox_id}:{phone}") as conn:
        row = conn.execute(sa.select(supporter_channels).where(
            supporter_channels.c.mailbox_id == mailbox_id, supporter_channels.c.phone == phone)).mappings().first()
        if row is None:
            conn.execute(sa.insert(supporter_channels).values(
                mailbox_id=mailbox_id, phone=phone, transport=transport, address=address, wrote_at=at))
            return True
        if row["wrote_at"] > at:
            return False
        conn.execute(sa.update(supporter_channels).where(
            supporter_channels.c.mailbox_id == mailbox_id, supporter_channels.c.phone == phone).values(
            transport=transport, address=address, wrote_at=at))
        return True


def last_channel(store, mailbox_id: int, phone: str) -> dict | None:
    """``{"transport", "address", "wrote_at"}`` the supporter last wrote on to this mailbox, or None."""
    return store.one(sa.select(supporter_channels.c.transport, supporter_channels.c.address,
                               supporter_channels.c.wrote_at).where(
        supporter_channels.c.mailbox_id == mailbox_id, supporter_channels.c.phone == phone))
