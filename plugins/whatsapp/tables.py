"""The WhatsApp feature's table, handed to the host's store through ``bling_tables`` (``__init__.py``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Each supporter's WhatsApp customer-service window per hotline: when they last wrote
#: (only inbound messages open or extend it) and when Twilio last said it was closed (63016).
sessions = sa.Table(
    "bling_whatsapp_sessions",
    metadata,
    sa.Column("hotline", sa.String(32), primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("last_inbound_at", sa.Float, nullable=True),
    sa.Column("refused_at", sa.Float, nullable=True),
)

TABLES = (sessions,)
