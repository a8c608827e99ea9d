"""The SMS feature's tables, handed to the host's store through ``bling_tables`` (``__init__.py``).

Their SQL is in ``state.py``. The names are those they always had, so a
store created before the tables moved here keeps its rows.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Each SMS Bling sent: where it belongs and Twilio's latest delivery status.
sms_messages = sa.Table(
    "bling_sms",
    metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("mailbox_id", sa.BigInteger, nullable=True),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.BigInteger, nullable=True),
    sa.Column("preview", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.Integer, nullable=True),
    sa.Column("noted", sa.Boolean, nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_bling_sms_phone", "phone", "sent_at"),
)

#: Supporters who texted STOP (or whom Twilio refused with 21610), per hotline.
opt_outs = sa.Table(
    "bling_opt_outs",
    metadata,
    sa.Column("hotline", sa.String(100), primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("opted_out", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("changed_at", sa.Float, nullable=False),
)

#: The local day each supporter last got a mailbox's after-hours reply.
after_hours_replies = sa.Table(
    "bling_after_hours_replies",
    metadata,
    sa.Column("mailbox_id", sa.BigInteger, primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("local_date", sa.String(10), nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
)

TABLES = (sms_messages, opt_outs, after_hours_replies)
