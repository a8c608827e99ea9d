"""Call back's table, handed to the host's store through ``bling_tables`` (``__init__.py``).

Its SQL is in ``call_log.py``. The name is the one it always had, so a
store created before the table moved here keeps its rows.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Each call-back an agent placed: its two legs, outcome, and whose job wrote the note.
dialer_calls = sa.Table(
    "bling_dialer_calls",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("token_id", sa.String(40), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("conversation_id", sa.BigInteger, nullable=False),
    sa.Column("mailbox_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("agent_name", sa.String(200), nullable=False),
    sa.Column("agent_phone", sa.String(32), nullable=False),
    sa.Column("supporter", sa.String(32), nullable=False),
    sa.Column("hotline", sa.String(32), nullable=False),
    sa.Column("agent_sid", sa.String(40), nullable=True),
    sa.Column("agent_status", sa.String(16), nullable=False),
    sa.Column("agent_duration", sa.Integer, nullable=True),
    sa.Column("pressed", sa.Boolean, nullable=False),
    sa.Column("supporter_sid", sa.String(40), nullable=True),
    sa.Column("supporter_status", sa.String(16), nullable=True),
    sa.Column("supporter_duration", sa.Integer, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("note_inbox_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("token_id", "sequence"),
    sa.Index("ix_bling_dialer_calls_agent", "agent_phone", "created_at"),
)

TABLES = (dialer_calls,)
