"""The tally's own table: one row per counted text (declared to the host by ``bling_tables``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TEXTS = sa.Table(
    "bling_daily_tally_texts", metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),  # a redelivered or retried text is one row
    sa.Column("mailbox_id", sa.BigInteger, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # YYYY-MM-DD in the mailbox's timezone
    sa.Column("counted_at", sa.Float, nullable=False),
    sa.Index("ix_bling_daily_tally_texts_day", "day", "mailbox_id"),
)
