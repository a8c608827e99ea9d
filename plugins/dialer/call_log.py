"""The call log of the dialer: one row per call-back, with its rate limits.

The table (``bling_dialer_calls``) is declared in ``tables.py`` and handed to
the store through ``bling_tables``; this module is its small API, over the
store's public one. Limits are checked and the row inserted in one
transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: advisory locks on the token
and the agent phone), so two clicks at once cannot both slip under a limit. Twilio's callbacks may arrive twice or out of order:
a leg's status only moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from . import tokens
from .tables import dialer_calls as table

#: Twilio call statuses that end a leg.
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
#: Order of a leg's statuses; callbacks never move a leg backwards.
RANK = {"placing": 0, "unknown": 0, "queued": 1, "initiated": 2, "ringing": 3, "in-progress": 4,
        **{status: 5 for status in TERMINAL}}
#: A call still counts as in progress for this long after it was placed.
ACTIVE_WINDOW_SECONDS = 4 * 3600


class CallRefused(Exception):
    """No call may be placed now; the message says why, for the agent."""


@dataclass(frozen=True)
class Limits:
    per_token: int
    per_agent_hour: int


class DialerCalls:
    """Read and write the call log through a :class:`bling.store.core.Store`."""

    def __init__(self, store):
        self.store = store

    def open(self, secret_key: str, claims: tokens.Claims, agent_phone: str, hotline: str, limits: Limits) -> dict:
        """Record a new call if no limit forbids it; raise CallRefused otherwise."""
        now = self.store.clock()
        with self.store.transaction(f"dialer-token:{claims.token_id}", f"dialer-agent:{agent_phone}") as conn:
            of_token = conn.execute(sa.select(table.c.agent_status, table.c.created_at)
                                    .where(table.c.token_id == claims.token_id)).all()
            if any(status not in TERMINAL and created > now - ACTIVE_WINDOW_SECONDS for status, created in of_token):
                raise CallRefused("A call from this link is still in progress; wait for it to end or cancel it.")
            if len(of_token) >= limits.per_token:
                raise CallRefused(f"This link has already placed {len(of_token)} calls, its limit. "
                                  "Open Call back again from Help Scout for a new link.")
            recent = conn.execute(sa.select(sa.func.count()).select_from(table).where(
                table.c.agent_phone == agent_phone, table.c.created_at > now - 3600)).scalar_one()
            if recent >= limits.per_agent_hour:
                raise CallRefused(f"Bling has called this phone {recent} times in the last hour, its limit. "
                                  "Try again later.")
            sequence = len(of_token) + 1
            row = dict(id=tokens.call_id(secret_key, claims.token_id, sequence), token_id=claims.token_id,
                       sequence=sequence, conversation_id=claims.conversation_id, mailbox_id=claims.mailbox_id,
                       user_id=claims.user_id, agent_name=claims.agent_name, agent_phone=agent_phone,
                       supporter=claims.supporter, hotline=hotline, agent_status="placing", pressed=False,
                       cancel_requested=False, created_at=now, updated_at=now)
            conn.execute(sa.insert(table).values(**row))
        return self.get(row["id"])

    def get(self, call_id: str | None) -> dict | None:
        if not call_id:
            return None
        return self.store.one(sa.select(table).where(table.c.id == call_id))

    def placed(self, call_id: str, agent_sid: str, status: str) -> dict:
        """Twilio took the call: remember its SID (its status only moves forward)."""
        self._update(call_id, agent_sid=agent_sid)
        return self.leg_status(call_id, "agent", status)

    def failed(self, call_id: str, error: str) -> dict:
        """Twilio refused the call: nothing will ring."""
        return self._update(call_id, agent_status="failed", error=error)

    def unconfirmed(self, call_id: str, error: str) -> dict:
        """Twilio did not answer the request: the call may or may not ring.

        Its status callbacks still find the row (the call id is in their URL).
        """
        return self._update(call_id, error=error)

    def leg_status(self, call_id: str, leg: str, status: str, sid: str | None = None,
                   duration: int | None = None) -> dict | None:
        """Move a leg (``agent`` or ``supporter``) forward to ``status``; return the row."""
        prefix = "agent" if leg == "agent" else "supporter"
        with self.store.transaction() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == call_id)).mappings().first()
            if row is None:
                return None
            current = row[f"{prefix}_status"]
            values: dict = {}
            if sid and not row[f"{prefix}_sid"]:
                values[f"{prefix}_sid"] = sid
            if current not in TERMINAL and RANK.get(status, -1) >= RANK.get(current or "placing", 0):
                values[f"{prefix}_status"] = status
                if duration is not None and status in TERMINAL:
                    values[f"{prefix}_duration"] = duration
            if values:
                values["updated_at"] = self.store.clock()
                conn.execute(sa.update(table).where(table.c.id == call_id).values(**values))
            return dict(conn.execute(sa.select(table).where(table.c.id == call_id)).mappings().one())

    def press(self, call_id: str) -> bool:
        """The agent pressed a key: True if the supporter may now be called."""
        return bool(self.store.write(sa.update(table).where(
            table.c.id == call_id, table.c.cancel_requested.is_(False),
            table.c.agent_status.notin_(TERMINAL)).values(pressed=True, updated_at=self.store.clock())))

    def request_cancel(self, call_id: str) -> dict:
        """The agent asked to stop: later TwiML requests hang up."""
        return self._update(call_id, cancel_requested=True)

    def claim_note(self, call_id: str, inbox_id: int) -> bool:
        """True for the one job that writes this call's note (and for its retries)."""
        with self.store.transaction() as conn:
            taken = conn.execute(sa.update(table).where(table.c.id == call_id, table.c.note_inbox_id.is_(None))
                                 .values(note_inbox_id=inbox_id)).rowcount
            if taken:
                return True
            owner = conn.execute(sa.select(table.c.note_inbox_id).where(table.c.id == call_id)).scalar()
            return owner == inbox_id

    def _update(self, call_id: str, **values) -> dict:
        values["updated_at"] = self.store.clock()
        self.store.write(sa.update(table).where(table.c.id == call_id).values(**values))
        return self.get(call_id)
