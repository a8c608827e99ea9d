"""Counting a text and forgetting old counts, through the store's public API only."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .tables import TEXTS


def local_day(moment: float, timezone: str) -> str:
    return datetime.fromtimestamp(moment, ZoneInfo(timezone)).strftime("%Y-%m-%d")


def count_text(context, event) -> str:
    """Record the text under its message id; return the day it counts for."""
    now = time.time()
    day = local_day(now, context.mailbox_options.timezone)
    context.store.upsert(TEXTS, {"message_sid": event["message_sid"]}, {"mailbox_id": context.mailbox.mailbox_id},
                         insert_only={"day": day, "counted_at": now})  # a retry keeps the first day
    return day


def prune(services) -> dict:
    """Drop rows older than BLING_TALLY_KEEP_DAYS (a periodic task: one worker runs it)."""
    cutoff = (datetime.now() - timedelta(days=services.settings.tally_keep_days)).strftime("%Y-%m-%d")
    dropped = services.store.write(sa.delete(TEXTS).where(TEXTS.c.day < cutoff))
    return {"dropped": dropped, "before": cutoff}


def counts(store, since_day: str) -> list[dict]:
    """Texts per mailbox per day since ``since_day``, oldest first."""
    texts = sa.func.count().label("texts")
    return store.all(sa.select(TEXTS.c.day, TEXTS.c.mailbox_id, texts).where(TEXTS.c.day >= since_day)
                     .group_by(TEXTS.c.day, TEXTS.c.mailbox_id).order_by(TEXTS.c.day, TEXTS.c.mailbox_id))
