"""Which Help Scout customer a supporter's phone belongs to, cached in the host's store.

Every feature that writes to Help Scout for a supporter (texts, calls,
voicemail, call-backs) asks ``plugins/customer_match.py``, which searches
Help Scout once and keeps the answer here; ``agent_started`` fills it when
an agent starts a conversation. The cache is the host's, beside the
supporter → conversation map, so no feature reaches into another for it.
"""

from __future__ import annotations

import sqlalchemy as sa

from bling.store.core import customer_matches


def cached_match(store, phone: str) -> dict | None:
    """The cached match for ``phone``: ``customer_id`` None means 'searched, none found';
    ``nobody`` true means the search saw no customer at all, not even its blackhole one."""
    return store.one(sa.select(customer_matches).where(customer_matches.c.phone == phone))


def cache_match(store, phone: str, customer_id: int | None, email: str | None, nobody: bool = False) -> None:
    store.upsert(customer_matches, {"phone": phone},
                 dict(customer_id=customer_id, email=email, checked_at=store.clock(), nobody=nobody))


def forget_match(store, phone: str) -> None:
    store.write(sa.delete(customer_matches).where(customer_matches.c.phone == phone))
