"""What the fake Twilio and Help Scout accounts hold, in SQL tables.

One state for every user of the fakes. The sandbox keeps it in Bling's own
store (web processes and the worker share it there); the benchmark and
tests keep it in memory (``FakeState.in_memory()``). The tables have their
own ``MetaData`` (prefix ``sandbox_``, the name they had when only the
sandbox had them, so existing sandbox stores keep working): they are never
part of a real deployment.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

metadata = sa.MetaData()

numbers = sa.Table(  # Twilio IncomingPhoneNumbers
    "sandbox_numbers", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("phone_number", sa.String(32), nullable=False, unique=True),
    sa.Column("config", sa.Text, nullable=False),  # JSON of the provisionable fields
)
senders = sa.Table(  # Twilio's channel senders (Senders API): the WhatsApp numbers
    "sandbox_senders", metadata,
    sa.Column("sid", sa.String(34), primary_key=True),
    sa.Column("sender_id", sa.String(48), nullable=False, unique=True),  # whatsapp:+E164
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("webhook", sa.Text, nullable=False),  # JSON: callback_url, status_callback_url, …
)
messages = sa.Table(  # every SMS and WhatsApp message, both ways (WhatsApp addresses keep their whatsapp: prefix)
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


@dataclass
class Thread:
    """A thread as the benchmark and tests read it; ``seeded`` when it did not come through the API."""

    id: int
    conversation_id: int
    type: str  # customer | phone | note | message | chat
    text: str  # the body as stored (HTML, as Help Scout keeps it)
    created_at: float
    seeded: bool


@dataclass
class Conversation:
    """A conversation with its customer's e-mail and its threads (oldest first)."""

    id: int
    mailbox_id: int
    customer_id: int
    email: str | None
    subject: str
    type: str
    created_at: float
    threads: list[Thread] = field(default_factory=list)


@dataclass
class Message:
    """A text in the fake Twilio account's log."""

    sid: str
    to: str
    from_: str
    body: str
    created_at: float
    direction: str
    status: str


class FakeState:
    """The fake accounts' data, behind small methods the fakes, the sandbox page and the benchmark use.

    ``numbers`` are the account's own phone numbers (Twilio refuses a text
    from any other). Every statement runs under one lock per state, which
    an in-memory database (one shared connection) needs and a file or
    server database does not mind.
    """

    def __init__(self, engine: sa.Engine, numbers: tuple[str, ...] | list[str] = ()):
        self.engine = engine
        self._lock = threading.RLock()
        metadata.create_all(engine)
        self.add_numbers(numbers)

    @classmethod
    def in_memory(cls, numbers: tuple[str, ...] | list[str] = ()) -> "FakeState":
        """A state of its own in an in-memory SQLite database (the benchmark's and tests')."""
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        return cls(engine, numbers)

    @contextmanager
    def _begin(self):
        with self._lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _connect(self):
        with self._lock, self.engine.connect() as conn:
            yield conn

    def add_numbers(self, phone_numbers) -> None:
        """Make sure each of the account's numbers exists (unconfigured until provisioned)."""
        with self._begin() as conn:
            for number in phone_numbers:
                if conn.execute(sa.select(numbers.c.sid).where(numbers.c.phone_number == number)).first() is None:
                    conn.execute(sa.insert(numbers).values(sid="PN" + secrets.token_hex(16), phone_number=number,
                                                           config=json.dumps({})))

    # -- Twilio ------------------------------------------------------------------

    def all_numbers(self) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute(sa.select(numbers)).mappings().all()
        return [{**dict(r), "config": json.loads(r["config"])} for r in rows]

    def number(self, phone_number: str | None = None, sid: str | None = None) -> dict | None:
        query = sa.select(numbers).where(numbers.c.phone_number == phone_number if phone_number else numbers.c.sid == sid)
        with self._connect() as conn:
            row = conn.execute(query).mappings().first()
        return {**dict(row), "config": json.loads(row["config"])} if row else None

    def update_number(self, sid: str, changes: dict[str, str]) -> dict | None:
        current = self.number(sid=sid)
        if current is None:
            return None
        config = {**current["config"], **changes}
        with self._begin() as conn:
            conn.execute(sa.update(numbers).where(numbers.c.sid == sid).values(config=json.dumps(config)))
        return {**current, "config": config}

    def add_senders(self, sender_ids, status: str = "ONLINE") -> None:
        """Make sure each WhatsApp sender (``whatsapp:+E164``) exists, its webhook unset until provisioned."""
        with self._begin() as conn:
            for sender_id in sender_ids:
                if conn.execute(sa.select(senders.c.sid).where(senders.c.sender_id == sender_id)).first() is None:
                    conn.execute(sa.insert(senders).values(sid="XE" + secrets.token_hex(16), sender_id=sender_id,
                                                           status=status, webhook=json.dumps({})))

    def all_senders(self) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute(sa.select(senders).order_by(senders.c.sender_id)).mappings().all()
        return [{**dict(r), "webhook": json.loads(r["webhook"])} for r in rows]

    def sender(self, sender_id: str | None = None, sid: str | None = None) -> dict | None:
        return next((s for s in self.all_senders() if s["sid"] == sid or (sender_id and s["sender_id"] == sender_id)),
                    None)

    def update_sender(self, sid: str, webhook: dict) -> dict | None:
        """Merge ``webhook`` fields into the sender's (fields not given stay, as a partial update)."""
        current = self.sender(sid=sid)
        if current is None:
            return None
        merged = {**current["webhook"], **webhook}
        with self._begin() as conn:
            conn.execute(sa.update(senders).where(senders.c.sid == sid).values(webhook=json.dumps(merged)))
        return {**current, "webhook": merged}

    def add_message(self, direction: str, from_: str, to: str, body: str, status: str, sid: str | None = None,
                    note: str | None = None, created_at: float | None = None) -> dict:
        row = dict(sid=sid or "SM" + secrets.token_hex(16), direction=direction, from_=from_, to=to, body=body,
                   status=status, note=note, created_at=time.time() if created_at is None else created_at)
        with self._begin() as conn:
            conn.execute(sa.insert(messages).values(**row))
        return row

    def set_message(self, sid: str, status: str, note: str | None) -> None:
        with self._begin() as conn:
            conn.execute(sa.update(messages).where(messages.c.sid == sid).values(status=status, note=note))

    def list_messages(self, to: str | None = None, from_: str | None = None, since: float | None = None,
                      limit: int | None = 1000, before: float | None = None) -> list[dict]:
        """Newest first; ``limit=None`` lists all (the API pages them itself)."""
        query = sa.select(messages).order_by(messages.c.created_at.desc())
        if limit is not None:
            query = query.limit(limit)
        if to:
            query = query.where(messages.c.to == to)
        if from_:
            query = query.where(messages.c.from_ == from_)
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        if before is not None:
            query = query.where(messages.c.created_at < before)
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def add_call(self, direction: str, from_: str, to: str, status: str, sid: str | None = None) -> dict:
        row = dict(sid=sid or "CA" + secrets.token_hex(16), direction=direction, from_=from_, to=to, status=status,
                   log="", created_at=time.time())
        with self._begin() as conn:
            conn.execute(sa.insert(calls).values(**row))
        return row

    def note_leg(self, sid: str, from_: str, to: str, status: str) -> None:
        """A phone a <Dial> rang (ring group, Call back): added, or its status moved on."""
        if self.call(sid) is None:
            self.add_call("outbound-dial", from_, to, status, sid=sid)
        else:
            with self._begin() as conn:
                conn.execute(sa.update(calls).where(calls.c.sid == sid).values(status=status))

    def set_message_status(self, sid: str, status: str) -> None:
        with self._begin() as conn:
            conn.execute(sa.update(messages).where(messages.c.sid == sid).values(status=status))

    def set_call(self, sid: str, status: str, log: list[str]) -> None:
        with self._begin() as conn:
            conn.execute(sa.update(calls).where(calls.c.sid == sid).values(status=status, log="\n".join(log)))

    def list_calls(self) -> list[dict]:
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(calls).order_by(calls.c.created_at.desc()).limit(200)).mappings()]

    def add_recording(self, sid: str, call_sid: str, duration: int) -> None:
        with self._begin() as conn:
            conn.execute(sa.insert(recordings).values(sid=sid, call_sid=call_sid, duration=duration, created_at=time.time()))

    def recordings_of(self, call_sid: str | None = None, sid: str | None = None) -> list[dict]:
        query = sa.select(recordings).where(recordings.c.call_sid == call_sid if call_sid else recordings.c.sid == sid)
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def call(self, sid: str) -> dict | None:
        with self._connect() as conn:
            return _row(conn.execute(sa.select(calls).where(calls.c.sid == sid)).mappings().first())

    # -- Help Scout ---------------------------------------------------------------

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._begin() as conn:
            conn.execute(sa.insert(tokens).values(token=token, expires_at=time.time() + TOKEN_SECONDS))
        return token

    def token_valid(self, token: str) -> bool:
        with self._connect() as conn:
            row = conn.execute(sa.select(tokens.c.expires_at).where(tokens.c.token == token)).first()
        return row is not None and row.expires_at > time.time()

    def customer(self, customer_id: int | None = None, email: str | None = None) -> dict | None:
        query = sa.select(customers).where(customers.c.id == customer_id if customer_id is not None
                                           else customers.c.email == email)
        with self._connect() as conn:
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
        with self._begin() as conn:
            new_id = conn.execute(sa.insert(customers).values(**values).returning(customers.c.id)).scalar_one()
        return {"id": new_id, **values}

    def create_conversation(self, mailbox_id: int, customer_id: int, subject: str, type_: str, status: str,
                            tags: list[str], created_at: float | None = None) -> int:
        now = time.time() if created_at is None else created_at
        with self._begin() as conn:
            return conn.execute(sa.insert(conversations).values(
                mailbox_id=mailbox_id, customer_id=customer_id, subject=subject, type=type_, status=status,
                tags=json.dumps(tags), created_at=now, updated_at=now).returning(conversations.c.id)).scalar_one()

    def update_conversation(self, conversation_id: int, **values: Any) -> None:
        with self._begin() as conn:
            conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id).values(**values))

    def all_customers(self) -> list[dict]:
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(customers).order_by(customers.c.id)).mappings()]

    def conversation(self, conversation_id: int) -> dict | None:
        with self._connect() as conn:
            return _row(conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).mappings().first())

    def conversations_of(self, mailbox_id: int | None = None, customer_id: int | None = None) -> list[dict]:
        query = sa.select(conversations).order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
        if mailbox_id is not None:
            query = query.where(conversations.c.mailbox_id == mailbox_id)
        if customer_id is not None:
            query = query.where(conversations.c.customer_id == customer_id)
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def add_thread(self, conversation_id: int, type_: str, body: str, by_type: str, source_type: str,
                   attachments: list | None = None, reopen: bool = False, created_at: float | None = None) -> int:
        now = time.time() if created_at is None else created_at
        with self._begin() as conn:
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
        with self._connect() as conn:
            rows = conn.execute(sa.select(threads).where(threads.c.conversation_id == conversation_id)
                                .order_by(threads.c.created_at.desc(), threads.c.id.desc())).mappings().all()
        return [{**dict(r), "attachments": json.loads(r["attachments"])} for r in rows]

    def thread_count(self, conversation_id: int) -> int:
        with self._connect() as conn:
            return conn.execute(sa.select(sa.func.count()).where(threads.c.conversation_id == conversation_id)).scalar_one()

    def webhooks(self) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute(sa.select(webhooks).order_by(webhooks.c.id)).mappings().all()
        return [{"id": r["id"], "state": r["state"], **json.loads(r["body"])} for r in rows]

    def add_webhook(self, body: dict) -> int:
        with self._begin() as conn:
            return conn.execute(sa.insert(webhooks).values(body=json.dumps(body), state="enabled")
                                .returning(webhooks.c.id)).scalar_one()

    def put_webhook(self, webhook_id: int, body: dict) -> bool:
        with self._begin() as conn:
            return bool(conn.execute(sa.update(webhooks).where(webhooks.c.id == webhook_id)
                                     .values(body=json.dumps(body))).rowcount)

    def delete_webhook(self, webhook_id: int) -> bool:
        with self._begin() as conn:
            return bool(conn.execute(sa.delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount)

    # -- the whole account, for the benchmark's and tests' accounting ----------------------

    def all_conversations(self) -> dict[int, Conversation]:
        """Every conversation with its customer's e-mail and its threads (oldest first), by id."""
        with self._connect() as conn:
            emails = dict(conn.execute(sa.select(customers.c.id, customers.c.email)).all())
            found = {r.id: Conversation(r.id, r.mailbox_id, r.customer_id, emails.get(r.customer_id), r.subject,
                                        r.type, r.created_at)
                     for r in conn.execute(sa.select(conversations).order_by(conversations.c.id))}
            for r in conn.execute(sa.select(threads).order_by(threads.c.created_at, threads.c.id)):
                if r.conversation_id in found:
                    found[r.conversation_id].threads.append(
                        Thread(r.id, r.conversation_id, r.type, r.body, r.created_at, r.source_type != "api"))
        return found

    def all_threads(self) -> list[Thread]:
        return [t for c in self.all_conversations().values() for t in c.threads]

    def all_messages(self) -> list[Message]:
        """Every text, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(sa.select(messages).order_by(messages.c.created_at)).all()
        return [Message(r.sid, r.to, r.from_, r.body, r.created_at, r.direction, r.status) for r in rows]
