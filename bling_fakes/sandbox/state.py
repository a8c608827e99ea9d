"""What the sandbox's fake Twilio and Help Scout hold, in SQL tables of the store.

The tables have their own ``MetaData`` (prefix ``sandbox_``): they live in
the same database as Bling's state but are never part of a real
deployment. Web processes and the worker share them through the store.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import sqlalchemy as sa

from bling_fakes.sandbox.config import HOTLINES, SUPPORTERS

metadata = sa.MetaData()

numbers = sa.Table(  # Twilio IncomingPhoneNumbers
    "sandbox_numbers", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("phone_number", sa.String(32), nullable=False, unique=True),
    sa.Column("config", sa.Text, nullable=False),  # JSON of the provisionable fields
)
messages = sa.Table(  # every SMS, both ways
    "sandbox_messages", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("direction", sa.String(16), nullable=False),  # inbound | outbound-api | outbound-reply
    sa.Column("from_", sa.String(32), nullable=False),
    sa.Column("to", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=True),  # what happened on delivery, for the page
    sa.Column("created_at", sa.Float, nullable=False),
)
calls = sa.Table(
    "sandbox_calls", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("from_", sa.String(32), nullable=False),
    sa.Column("to", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("log", sa.Text, nullable=False),  # the walk through the TwiML, one line per step
    sa.Column("created_at", sa.Float, nullable=False),
)
recordings = sa.Table(
    "sandbox_recordings", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("call_sid", sa.String(34), nullable=False, index=True),
    sa.Column("duration", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
customers = sa.Table(
    "sandbox_customers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=True, unique=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("first_name", sa.String(80), nullable=False, default=""),
    sa.Column("last_name", sa.String(80), nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)
conversations = sa.Table(
    "sandbox_conversations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mailbox_id", sa.BigInteger, nullable=False),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
threads = sa.Table(
    "sandbox_threads", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.Integer, nullable=False, index=True),
    sa.Column("type", sa.String(16), nullable=False),  # customer | phone | note | message | chat
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("by_type", sa.String(16), nullable=False),  # customer | user
    sa.Column("source_type", sa.String(16), nullable=False),  # api | web
    sa.Column("attachments", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", sa.Float, nullable=False),
)
webhooks = sa.Table(
    "sandbox_webhooks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("body", sa.Text, nullable=False),  # what was POSTed or PUT (url, events, secret, mailboxIds…)
    sa.Column("state", sa.String(16), nullable=False),
)
tokens = sa.Table(
    "sandbox_tokens", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)

TOKEN_SECONDS = 172800  # what Help Scout grants (two days)
AGENT = {"id": 1, "type": "user", "first": "Sandbox", "last": "Agent", "email": "agent@sandbox.invalid"}


def _row(result) -> dict | None:
    return dict(result) if result is not None else None


class SandboxState:
    """The fake accounts' data, behind small methods the stand-ins and the page use."""

    def __init__(self, engine: sa.Engine, settings):
        self.engine, self.settings = engine, settings
        metadata.create_all(engine)

    # -- set-up ----------------------------------------------------------------

    def seed(self) -> None:
        """Make sure each fake hotline number exists (unconfigured until provisioned)."""
        with self.engine.begin() as conn:
            for number, *_rest in HOTLINES:
                if conn.execute(sa.select(numbers.c.sid).where(numbers.c.phone_number == number)).first() is None:
                    conn.execute(sa.insert(numbers).values(sid="PN" + secrets.token_hex(16), phone_number=number,
                                                           config=json.dumps({})))

    def mailbox_name(self, mailbox_id: int) -> str | None:
        return next((name for _n, mid, name, _r in HOTLINES if mid == mailbox_id), None)

    def hotlines(self) -> list[dict]:
        found = {n["phone_number"]: n for n in self.all_numbers()}
        return [{"number": number, "mailbox_id": mailbox, "name": name, "ring": list(ring),
                 "config": found.get(number, {}).get("config", {})} for number, mailbox, name, ring in HOTLINES]

    def supporters(self) -> list[str]:
        """Phones shown on the page: the defaults and anyone who texted, called or was texted."""
        hotline_numbers = {number for number, *_ in HOTLINES}
        seen: list[str] = list(SUPPORTERS)
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(messages.c.from_, messages.c.to).order_by(messages.c.created_at)):
                for phone in (row.from_, row.to):
                    if phone not in hotline_numbers and phone not in seen:
                        seen.append(phone)
        return seen

    # -- Twilio ------------------------------------------------------------------

    def all_numbers(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(numbers)).mappings().all()
        return [{**dict(r), "config": json.loads(r["config"])} for r in rows]

    def number(self, phone_number: str | None = None, sid: str | None = None) -> dict | None:
        query = sa.select(numbers).where(numbers.c.phone_number == phone_number if phone_number else numbers.c.sid == sid)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return {**dict(row), "config": json.loads(row["config"])} if row else None

    def update_number(self, sid: str, changes: dict[str, str]) -> dict | None:
        current = self.number(sid=sid)
        if current is None:
            return None
        config = {**current["config"], **changes}
        with self.engine.begin() as conn:
            conn.execute(sa.update(numbers).where(numbers.c.sid == sid).values(config=json.dumps(config)))
        return {**current, "config": config}

    def add_message(self, direction: str, from_: str, to: str, body: str, status: str, sid: str | None = None,
                    note: str | None = None) -> dict:
        row = dict(sid=sid or "SM" + secrets.token_hex(16), direction=direction, from_=from_, to=to, body=body,
                   status=status, note=note, created_at=time.time())
        with self.engine.begin() as conn:
            conn.execute(sa.insert(messages).values(**row))
        return row

    def set_message(self, sid: str, status: str, note: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(messages).where(messages.c.sid == sid).values(status=status, note=note))

    def list_messages(self, to: str | None = None, from_: str | None = None, since: float | None = None,
                      limit: int = 1000) -> list[dict]:
        query = sa.select(messages).order_by(messages.c.created_at.desc()).limit(limit)
        if to:
            query = query.where(messages.c.to == to)
        if from_:
            query = query.where(messages.c.from_ == from_)
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def add_call(self, direction: str, from_: str, to: str, status: str, sid: str | None = None) -> dict:
        row = dict(sid=sid or "CA" + secrets.token_hex(16), direction=direction, from_=from_, to=to, status=status,
                   log="", created_at=time.time())
        with self.engine.begin() as conn:
            conn.execute(sa.insert(calls).values(**row))
        return row

    def note_leg(self, sid: str, from_: str, to: str, status: str) -> None:
        """A phone a <Dial> rang (ring group, Call back): added, or its status moved on."""
        if self.call(sid) is None:
            self.add_call("outbound-dial", from_, to, status, sid=sid)
        else:
            with self.engine.begin() as conn:
                conn.execute(sa.update(calls).where(calls.c.sid == sid).values(status=status))

    def set_message_status(self, sid: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(messages).where(messages.c.sid == sid).values(status=status))

    def set_call(self, sid: str, status: str, log: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(calls).where(calls.c.sid == sid).values(status=status, log="\n".join(log)))

    def list_calls(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(calls).order_by(calls.c.created_at.desc()).limit(200)).mappings()]

    def add_recording(self, sid: str, call_sid: str, duration: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(recordings).values(sid=sid, call_sid=call_sid, duration=duration, created_at=time.time()))

    def recordings_of(self, call_sid: str | None = None, sid: str | None = None) -> list[dict]:
        query = sa.select(recordings).where(recordings.c.call_sid == call_sid if call_sid else recordings.c.sid == sid)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def call(self, sid: str) -> dict | None:
        with self.engine.connect() as conn:
            return _row(conn.execute(sa.select(calls).where(calls.c.sid == sid)).mappings().first())

    # -- Help Scout ---------------------------------------------------------------

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(sa.insert(tokens).values(token=token, expires_at=time.time() + TOKEN_SECONDS))
        return token

    def token_valid(self, token: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(tokens.c.expires_at).where(tokens.c.token == token)).first()
        return row is not None and row.expires_at > time.time()

    def customer(self, customer_id: int | None = None, email: str | None = None) -> dict | None:
        query = sa.select(customers).where(customers.c.id == customer_id if customer_id is not None
                                           else customers.c.email == email)
        with self.engine.connect() as conn:
            return _row(conn.execute(query).mappings().first())

    def ensure_customer(self, spec: dict) -> dict:
        """A customer by id, or by email (created with the spec's fields when new), as Help Scout does."""
        if spec.get("id"):
            found = self.customer(customer_id=int(spec["id"]))
            if found:
                return found
        email = spec.get("email")
        if email:
            found = self.customer(email=email)
            if found:
                return found
        values = dict(email=email, phone=spec.get("phone"), first_name=spec.get("firstName") or "",
                      last_name=spec.get("lastName") or "", created_at=time.time())
        with self.engine.begin() as conn:
            new_id = conn.execute(sa.insert(customers).values(**values).returning(customers.c.id)).scalar_one()
        return {"id": new_id, **values}

    def create_conversation(self, mailbox_id: int, customer_id: int, subject: str, type_: str, status: str,
                            tags: list[str]) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            return conn.execute(sa.insert(conversations).values(
                mailbox_id=mailbox_id, customer_id=customer_id, subject=subject, type=type_, status=status,
                tags=json.dumps(tags), created_at=now, updated_at=now).returning(conversations.c.id)).scalar_one()

    def update_conversation(self, conversation_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id).values(**values))

    def customers_with_phones(self, phones: list[str]) -> list[dict]:
        if not phones:
            return []
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(customers).where(customers.c.phone.in_(phones))).mappings()]

    def conversation(self, conversation_id: int) -> dict | None:
        with self.engine.connect() as conn:
            return _row(conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).mappings().first())

    def conversations_of(self, mailbox_id: int | None = None, customer_id: int | None = None) -> list[dict]:
        query = sa.select(conversations).order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
        if mailbox_id is not None:
            query = query.where(conversations.c.mailbox_id == mailbox_id)
        if customer_id is not None:
            query = query.where(conversations.c.customer_id == customer_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def add_thread(self, conversation_id: int, type_: str, body: str, by_type: str, source_type: str,
                   attachments: list | None = None, reopen: bool = False) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            new_id = conn.execute(sa.insert(threads).values(
                conversation_id=conversation_id, type=type_, body=body, by_type=by_type, source_type=source_type,
                attachments=json.dumps(attachments or []), created_at=now).returning(threads.c.id)).scalar_one()
            values: dict[str, Any] = {"updated_at": now}
            if reopen:
                values["status"] = "active"
            conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id).values(**values))
        return new_id

    def threads_of(self, conversation_id: int) -> list[dict]:
        """Newest first, as Help Scout lists them."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(threads).where(threads.c.conversation_id == conversation_id)
                                .order_by(threads.c.created_at.desc(), threads.c.id.desc())).mappings().all()
        return [{**dict(r), "attachments": json.loads(r["attachments"])} for r in rows]

    def thread_count(self, conversation_id: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).where(threads.c.conversation_id == conversation_id)).scalar_one()

    def webhooks(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(webhooks).order_by(webhooks.c.id)).mappings().all()
        return [{"id": r["id"], "state": r["state"], **json.loads(r["body"])} for r in rows]

    def add_webhook(self, body: dict) -> int:
        with self.engine.begin() as conn:
            return conn.execute(sa.insert(webhooks).values(body=json.dumps(body), state="enabled")
                                .returning(webhooks.c.id)).scalar_one()

    def put_webhook(self, webhook_id: int, body: dict) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(sa.update(webhooks).where(webhooks.c.id == webhook_id)
                                     .values(body=json.dumps(body))).rowcount)

    def delete_webhook(self, webhook_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(sa.delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount)
