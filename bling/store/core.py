"""The data layer: every piece of Bling's state in SQL tables.

One module speaks SQLite (the default, a file beside Bling) and PostgreSQL
(several machines) through SQLAlchemy Core. The inbox row is the truth
about an event and the inbox is the queue itself (the pattern of Oban,
good_job and Procrastinate): accepting an event is one INSERT, a worker
claims the oldest due row of its lane (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the database lock on SQLite), and a lapsed lease makes a row
claimable again, so ``kill -9`` loses nothing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError

from bling.errors import ConfigError
from bling.store.group_commit import GroupCommit

metadata = sa.MetaData()
#: Advisory lock id guarding table creation on PostgreSQL ("blin" in ASCII).
SCHEMA_LOCK_KEY = 0x626C696E
#: The inbox columns an accepted event fills.
ACCEPT_COLUMNS = ("key", "route", "supporter", "payload", "lane", "state", "attempts", "next_attempt_at",
                  "created_at", "updated_at")
#: PostgreSQL channel on which an accepted event wakes idle workers (LISTEN/NOTIFY).
NOTIFY_CHANNEL = "bling_inbox"

inbox = sa.Table(
    "bling_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("supporter", sa.String(200), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    # routes.toml's lane: "helpscout" (paced by the budget, oldest first) or "fast"
    sa.Column("lane", sa.String(16), nullable=False, default="helpscout", server_default="helpscout"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_bling_inbox_due", "state", "next_attempt_at"),
    sa.Index("ix_bling_inbox_lane", "state", "lane", "id"),  # claim: the oldest pending row of a lane
    sa.Index("ix_bling_inbox_supporter", "supporter", "state"),
)

effects = sa.Table(
    "bling_effects",
    metadata,
    sa.Column("inbox_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("result", sa.Text, nullable=True),
)

conversations = sa.Table(
    "bling_conversations",
    metadata,
    sa.Column("mailbox_id", sa.BigInteger, primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("conversation_id", sa.BigInteger, nullable=False),
    sa.Column("thread_count", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

secrets_cache = sa.Table(
    "bling_tokens",
    metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

budgets = sa.Table(
    "bling_budgets",
    metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    sa.Column("limit_per_minute", sa.Integer, nullable=False),
    sa.Column("blocked_until", sa.Float, nullable=False),
)

#: The last answer from each provider, for /healthz (bling/ops/health.py reads and writes it).
api_health = sa.Table(
    "bling_api_health",
    metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("last_ok_at", sa.Float, nullable=True),
    sa.Column("last_failure_at", sa.Float, nullable=True),
    sa.Column("last_failure", sa.String(200), nullable=True),
)

#: When each periodic task (reconcile, loaders, heartbeat) is next due: one process runs it.
periodic_runs = sa.Table(
    "bling_periodic",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("next_run_at", sa.Float, nullable=False),
    sa.Column("last_run_at", sa.Float, nullable=True),
)

#: How far a loader got (e.g. Mobile Commons' received messages), so a re-run starts there.
cursors = sa.Table(
    "bling_cursors",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# -- supporter → Help Scout customer (bling/store/supporters.py reads and writes it)

#: Phone → the Help Scout customer it matched (customer_id NULL: no match); ``nobody``:
#: the search found no customer at all, not even the phone's blackhole one (as of checked_at).
customer_matches = sa.Table(
    "bling_customer_matches",
    metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("checked_at", sa.Float, nullable=False),
    sa.Column("nobody", sa.Boolean, nullable=True),
)

#: The channel (transport and hotline address) a supporter last wrote on, per Help Scout mailbox:
#: agent replies go back on it (bling/store/supporters.py). ``wrote_at``: when that message was sent.
supporter_channels = sa.Table(
    "bling_supporter_channels",
    metadata,
    sa.Column("mailbox_id", sa.BigInteger, primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("transport", sa.String(64), nullable=False),
    sa.Column("address", sa.String(100), nullable=False),
    sa.Column("wrote_at", sa.Float, nullable=False),
)


def make_engine(url: str) -> sa.Engine:
    """Create the engine; SQLite gets WAL and synchronous=FULL (a 2xx is a promise)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  hide_parameters=True)  # a failed insert must not log the message it carried

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # NOTE: the driver's implicit transactions would defeat BEGIN IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa_event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the lock up front so read-then-write never deadlocks;
            # plain reads (connect(), not begin()) must not block writers.
            readonly = conn.get_execution_options().get("readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


class Store:
    """State shared by every Bling process, behind one small API."""

    def __init__(self, url: str, clock=time.time, tables: Iterable[sa.Table] = (), schema_ready: bool = False):
        """Open the store at ``url`` and create its tables: the host's, and ``tables`` (the plugins'
        ``bling_tables``; ``add_tables`` takes more later).

        ``schema_ready``: the process that started this one has just created them all (``bling
        serve`` before forking its web processes), so the tables are only registered: no catalog
        queries, and none of SQLAlchemy's reflection loaded into every web process.
        """
        self.url = url
        self._schema_ready = schema_ready
        self.engine = make_engine(url)
        self.clock = clock
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._accepts = GroupCommit(self._write_accepts)
        self._writer_connection = None  # SQLite: the accept writer's own (see _sqlite_writer)
        self._writer_pid = 0
        #: Every table this store holds, the host's and the plugins', by name.
        self.tables: dict[str, sa.Table] = {}
        self.add_tables(metadata.sorted_tables)
        self.add_tables(tables)

    def add_tables(self, tables: Iterable[sa.Table]) -> None:
        """Create these tables unless they exist, and bring older ones up to date (``_migrate``).

        Tables this store already holds are skipped. A plugin's table named
        like one of the host's, or two of one name here, stop start-up: one
        name in the database is one table.
        """
        new: dict[str, sa.Table] = {}
        for table in tables:
            if self.tables.get(table.name) is table:
                continue
            host = metadata.tables.get(table.name)
            if table.name in new or (host is not None and host is not table):
                raise ConfigError(f"table {table.name!r} is declared twice (the host's tables: "
                                  f"{', '.join(sorted(metadata.tables))}); name a plugin's tables bling_<plugin>_…")
            new[table.name] = table
        if not new:
            return
        if self._schema_ready:
            self.tables.update(new)
            return
        with self.schema_lock(), self.engine.begin() as conn:
            for table in new.values():
                table.create(conn, checkfirst=True)
            self._migrate(conn, list(new.values()))
        self.tables.update(new)

    def _migrate(self, conn, tables: list[sa.Table]) -> None:
        """Bring an older store up to date: add the columns and indexes added since it was created.

        New columns are nullable or carry a server default (e.g. the inbox's
        ``lane``, added when the inbox became the queue), so adding them is safe.
        """
        inspector = sa.inspect(conn)
        for table in tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=self.engine.dialect)
                    default = f" NOT NULL DEFAULT '{column.server_default.arg}'" if column.server_default else ""
                    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{default}"))
            indexes = {index["name"] for index in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn, checkfirst=True)

    @contextlib.contextmanager
    def schema_lock(self):
        """Hold a lock while creating tables: several processes start at once.

        PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a
        concurrent twin (it fails on pg_type's unique index), so web and
        worker processes starting together take turns. SQLite's file lock
        already serialises them.
        """
        if not self.is_postgres:
            yield
            return
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                conn.commit()

    def close(self) -> None:
        writer, self._writer_connection = self._writer_connection, None
        if writer is not None and self._writer_pid == os.getpid():
            writer.close()
        self.engine.dispose()

    def _dialect_insert(self, table: sa.Table):
        """The engine's own INSERT (it has ON CONFLICT); only that dialect is loaded (PostgreSQL's is 2 MB)."""
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    # -- the small API plugins use for their own tables (bling_tables) ---

    def read(self):
        """A connection for reads only (on SQLite it does not take the write lock): ``with store.read() as conn``."""
        return self.engine.connect().execution_options(readonly=True)

    def one(self, statement) -> dict | None:
        """The first row ``statement`` selects, as a dict (None: no row)."""
        with self.read() as conn:
            row = conn.execute(statement).mappings().first()
        return dict(row) if row else None

    def all(self, statement) -> list[dict]:
        """Every row ``statement`` selects, as dicts."""
        with self.read() as conn:
            return [dict(row) for row in conn.execute(statement).mappings()]

    def scalar(self, statement) -> Any:
        """The first column of the first row ``statement`` selects (None: no row)."""
        with self.read() as conn:
            return conn.execute(statement).scalar()

    def write(self, statement) -> int:
        """Run one INSERT, UPDATE or DELETE in its own transaction; return how many rows it touched."""
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount

    @contextlib.contextmanager
    def transaction(self, *locks: str):
        """A write transaction (``with store.transaction() as conn``), committed when the block ends.

        Read-then-write is safe inside: SQLite takes its write lock up front
        (BEGIN IMMEDIATE); on PostgreSQL each name in ``locks`` is an advisory
        lock held until commit, so two processes deciding on the same thing
        (e.g. a rate limit) take turns — ``SELECT … FOR UPDATE`` (SQLite ignores
        it) locks single rows.
        """
        with self.engine.begin() as conn:
            if self.is_postgres:
                for key in locks:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
            yield conn

    # -- inbox ---------------------------------------------------------

    def accept(self, key: str, route: str, supporter: str, payload: dict,
               lane: str = "helpscout") -> tuple[int, bool]:
        """Record an event once; return (inbox id, True if new).

        This one INSERT is the event's whole durable cost: the row is the
        queue entry too. Events accepted at the same moment share one
        transaction (bling/store/group_commit.py), and each caller returns only once
        its row is committed. On PostgreSQL the transaction also notifies idle
        workers (delivered at commit, never before the rows are visible).
        """
        now = self.clock()
        row = dict(key=key, route=route, supporter=supporter, payload=json.dumps(payload), lane=lane,
                   state="pending", attempts=0, next_attempt_at=now, created_at=now, updated_at=now)
        return self._accepts.submit(row)

    def _write_accepts(self, rows: list[dict]) -> list:
        """Insert a batch of accepted events in one transaction; a failing batch is retried row by row,
        so one bad event cannot refuse the others (its caller alone gets the error)."""
        try:
            return self._insert_accepts(rows)
        except Exception:
            if len(rows) == 1:
                raise
        results: list = []
        for row in rows:
            try:
                results.append(self._insert_accepts([row])[0])
            except Exception as ex:
                results.append(ex)
        return results

    @functools.cached_property
    def _accept_sql(self):
        """The accept INSERT, compiled once for this engine (the hot path of every webhook)."""
        insert = self._dialect_insert(inbox)
        compiled = insert.values({c: sa.bindparam(c) for c in ACCEPT_COLUMNS}).on_conflict_do_nothing(
            index_elements=["key"]).returning(inbox.c.id).compile(dialect=self.engine.dialect)
        order = compiled.positiontup
        return str(compiled), (lambda row: tuple(row[name] for name in order)) if order else (lambda row: row)

    def _insert_accepts(self, rows: list[dict]) -> list[tuple[int, bool]]:
        if not self.is_postgres:
            return self._insert_accepts_sqlite(rows)
        sql, params = self._accept_sql
        results = []
        with self.engine.begin() as conn:
            cursor = conn.connection.cursor()  # the driver's own: SQLAlchemy's work per statement was a fifth of an accept
            try:
                for row in rows:
                    cursor.execute(sql, params(row))
                    found = cursor.fetchone()
                    if found is None:  # delivered before (or twice in this batch)
                        results.append((conn.execute(sa.select(inbox.c.id).where(inbox.c.key == row["key"])).scalar_one(), False))
                    else:
                        results.append((found[0], True))
            finally:
                cursor.close()
            if any(new for _, new in results):
                conn.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        return results

    def _insert_accepts_sqlite(self, rows: list[dict]) -> list[tuple[int, bool]]:
        """The batch in one transaction on the writer's own connection (BEGIN IMMEDIATE … COMMIT, as every write)."""
        sql, params = self._accept_sql
        connection = self._sqlite_writer()
        cursor = connection.cursor()
        results = []
        try:
            cursor.execute("BEGIN IMMEDIATE")
            for row in rows:
                cursor.execute(sql, params(row))
                found = cursor.fetchone()
                if found is None:  # delivered before (or twice in this batch)
                    cursor.execute(f"SELECT id FROM {inbox.name} WHERE key = ?", (row["key"],))
                    found = cursor.fetchone()
                    results.append((found[0], False))
                else:
                    results.append((found[0], True))
            cursor.execute("COMMIT")
        except BaseException:
            self._writer_connection = None  # whatever state it is in, the next batch starts on a fresh one
            cursor.close()
            connection.close()  # closing rolls back what was not committed
            raise
        cursor.close()
        return results

    def _sqlite_writer(self):
        """The driver connection the accept writer keeps (SQLite): this process's one writer (bling/group_commit.py)
        is its only user, so it skips the pool and SQLAlchemy's work around each transaction (two thirds of a
        batch's CPU). Made by the engine, so it has every connection's PRAGMAs (WAL, synchronous=FULL)."""
        if self._writer_connection is None or self._writer_pid != os.getpid():  # first use, or a forked child
            proxied = self.engine.raw_connection()
            proxied.detach()  # ours for good: the pool neither resets nor hands it out
            self._writer_connection = proxied.dbapi_connection
            self._writer_pid = os.getpid()
        return self._writer_connection

    def claim(self, inbox_id: int, owner: str, lease_seconds: float) -> dict | None:
        """Lease this row for ``owner`` if it is claimable (see ``_claimable``), else None."""
        now = self.clock()
        with self.engine.begin() as conn:
            return self._lease(conn, self._claimable(now).where(inbox.c.id == inbox_id), owner, lease_seconds, now)

    def claim_next(self, lane: str, owner: str, lease_seconds: float) -> dict | None:
        """Lease the oldest claimable row of ``lane`` for ``owner``; None when there is none.

        Oldest means accepted first (the row id): a broadcast's replies reach
        Help Scout in the order supporters sent them. On PostgreSQL rows other
        workers are claiming right now are skipped, not waited for.
        """
        now = self.clock()
        with self.engine.begin() as conn:
            return self._lease(conn, self._claimable(now).where(inbox.c.lane == lane), owner, lease_seconds, now)

    def _claimable(self, now: float):
        """Pending, due, not leased, and first in its supporter's line.

        One job per supporter at a time, oldest first: a row waits while an
        older row of the same supporter is pending (even deferred) or while
        another row of theirs is leased, so two texts sent together make one
        conversation, in order.
        """
        other = inbox.alias("other")
        blocked = sa.exists().where(
            other.c.supporter == inbox.c.supporter, other.c.state == "pending", other.c.id != inbox.c.id,
            sa.or_(other.c.id < inbox.c.id, other.c.lease_until > now))
        query = (sa.select(inbox.c.id)
                 .where(inbox.c.state == "pending", inbox.c.next_attempt_at <= now,
                        sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now), ~blocked)
                 .order_by(inbox.c.id).limit(1))
        return query.with_for_update(skip_locked=True, of=inbox) if self.is_postgres else query

    def _lease(self, conn, query, owner: str, lease_seconds: float, now: float) -> dict | None:
        inbox_id = conn.execute(query).scalar()
        if inbox_id is None:
            return None
        conn.execute(sa.update(inbox).where(inbox.c.id == inbox_id)
                     .values(lease_until=now + lease_seconds, lease_owner=owner,
                             attempts=inbox.c.attempts + 1, updated_at=now))
        claimed = dict(conn.execute(sa.select(inbox).where(inbox.c.id == inbox_id)).mappings().one())
        claimed["payload"] = json.loads(claimed["payload"])
        claimed["result"] = json.loads(claimed["result"]) if claimed["result"] else {}
        return claimed

    def renew(self, owner: str, inbox_ids: Iterable[int], lease_seconds: float) -> None:
        """Extend ``owner``'s leases on rows it is still working on (a live worker keeps its jobs)."""
        ids = list(inbox_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.update(inbox).where(inbox.c.id.in_(ids), inbox.c.lease_owner == owner,
                                                inbox.c.state == "pending")
                         .values(lease_until=self.clock() + lease_seconds))

    def due(self, limit: int = 100) -> list[int]:
        """Ids of pending rows whose time has come and whose lease (if any) lapsed."""
        now = self.clock()
        with self.read() as conn:
            rows = conn.execute(
                sa.select(inbox.c.id)
                .where(inbox.c.state == "pending", inbox.c.next_attempt_at <= now,
                       sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))
                .order_by(inbox.c.id).limit(limit)
            ).scalars().all()
        return list(rows)

    def finish(self, inbox_id: int, owner: str, result: dict) -> None:
        """Mark the row done with what it obtained (conversation id, SMS sids…)."""
        self._update(inbox_id, owner, state="done", result=json.dumps(result), lease_until=None, last_error=None)

    def retry(self, inbox_id: int, owner: str, error: str, delay: float, result: dict,
              count_attempt: bool = True, lane: str | None = None) -> None:
        """Put the row back for another attempt after ``delay`` seconds.

        ``count_attempt=False`` hands back the attempt the claim counted: a
        job paced by a rate limit did not fail, it waited its turn. ``lane``
        moves the row to another lane (a fast job that needs the budget).
        """
        values: dict[str, Any] = dict(next_attempt_at=self.clock() + delay, lease_until=None,
                                      last_error=error, result=json.dumps(result))
        if not count_attempt:
            values["attempts"] = inbox.c.attempts - 1
        if lane is not None:
            values["lane"] = lane
        self._update(inbox_id, owner, **values)

    def bury(self, inbox_id: int, owner: str | None, error: str, result: dict) -> None:
        """Make the row a dead letter; ``bling jobs`` shows and replays it."""
        self._update(inbox_id, owner, state="dead", lease_until=None, last_error=error, result=json.dumps(result))

    def replay(self, inbox_id: int) -> bool:
        """Return a dead letter to the queue with fresh attempts."""
        with self.engine.begin() as conn:
            return bool(conn.execute(
                sa.update(inbox).where(inbox.c.id == inbox_id, inbox.c.state == "dead")
                .values(state="pending", attempts=0, next_attempt_at=self.clock(), lease_until=None,
                        updated_at=self.clock())
            ).rowcount)

    def _update(self, inbox_id: int, owner: str | None, **values: Any) -> None:
        values["updated_at"] = self.clock()
        where = [inbox.c.id == inbox_id]
        if owner is not None:
            where.append(inbox.c.lease_owner == owner)  # a lapsed lease lost the row
        with self.engine.begin() as conn:
            conn.execute(sa.update(inbox).where(*where).values(**values))

    def upcoming(self, lane: str, limit: int) -> list[dict]:
        """The next pending rows of ``lane`` no worker holds yet, in the order they will be handed
        out (id, supporter, route, payload).

        Lets a plugin batch a look-up for the supporters behind the current
        one (one Help Scout search for several never-seen phones); rows other
        workers are running look themselves up.
        """
        now = self.clock()
        with self.read() as conn:
            rows = conn.execute(
                sa.select(inbox.c.id, inbox.c.supporter, inbox.c.route, inbox.c.payload)
                .where(inbox.c.state == "pending", inbox.c.lane == lane,
                       sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))
                .order_by(inbox.c.id).limit(limit)
            ).mappings().all()
        return [dict(row, payload=json.loads(row["payload"])) for row in rows]

    def has_key(self, key: str) -> bool:
        with self.read() as conn:
            return conn.execute(sa.select(inbox.c.id).where(inbox.c.key == key)).first() is not None

    def find_key(self, key: str) -> dict | None:
        """The row accepted under ``key`` (state, result decoded), e.g. to wait for a related event."""
        with self.read() as conn:
            row = conn.execute(sa.select(inbox).where(inbox.c.key == key)).mappings().first()
        if row is None:
            return None
        found = dict(row)
        found["result"] = json.loads(found["result"]) if found["result"] else {}
        return found

    def get(self, inbox_id: int) -> dict | None:
        with self.read() as conn:
            row = conn.execute(sa.select(inbox).where(inbox.c.id == inbox_id)).mappings().first()
        return dict(row) if row else None

    def rows(self, state: str | None = None, limit: int = 100) -> list[dict]:
        query = sa.select(inbox).order_by(inbox.c.id.desc()).limit(limit)
        if state:
            query = query.where(inbox.c.state == state)
        with self.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(sa.select(inbox.c.state, sa.func.count()).group_by(inbox.c.state)).all()
        return {state: count for state, count in rows}

    def queue_facts(self) -> dict:
        """Pending, due, dead, the oldest due event's age and the providers' last answers, from the store."""
        now = self.clock()
        with self.read() as conn:
            by_state = dict(conn.execute(sa.select(inbox.c.state, sa.func.count()).group_by(inbox.c.state)).all())
            due_filter = (inbox.c.state == "pending", inbox.c.next_attempt_at <= now,
                          sa.or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))
            due = conn.execute(sa.select(sa.func.count(), sa.func.min(inbox.c.next_attempt_at)).where(*due_filter)).one()
            oldest_pending = conn.execute(sa.select(sa.func.min(inbox.c.created_at)).where(inbox.c.state == "pending")).scalar()
            api = {row.service: {"last_ok_at": row.last_ok_at, "last_failure_at": row.last_failure_at,
                                 "last_failure": row.last_failure}
                   for row in conn.execute(sa.select(api_health))}
        return {"pending": by_state.get("pending", 0), "due": due[0], "dead_letters": by_state.get("dead", 0),
                "done": by_state.get("done", 0),
                "oldest_due_seconds": None if due[1] is None else round(max(0.0, now - due[1]), 1),
                "oldest_pending_seconds": None if oldest_pending is None else round(max(0.0, now - oldest_pending), 1),
                "api": api}

    def record_api(self, service: str, **values: Any) -> None:
        """Keep ``service``'s last success or failure (``last_ok_at``, ``last_failure_at``, ``last_failure``)
        for /healthz: bling/ops/health.py reports them, ``queue_facts`` reads them back."""
        self.upsert(api_health, {"service": service}, values)

    def oldest_pending_age(self) -> float | None:
        with self.read() as conn:
            oldest = conn.execute(sa.select(sa.func.min(inbox.c.created_at)).where(inbox.c.state == "pending")).scalar()
        return None if oldest is None else max(0.0, self.clock() - oldest)

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- effects -------------------------------------------------------

    def effect(self, inbox_id: int, name: str) -> dict | None:
        with self.read() as conn:
            row = conn.execute(sa.select(effects).where(effects.c.inbox_id == inbox_id, effects.c.name == name)).mappings().first()
        if row is None:
            return None
        found = dict(row)
        found["result"] = json.loads(found["result"]) if found["result"] else None
        return found

    def effect_started(self, inbox_id: int, name: str, state: dict | None = None) -> float:
        """Record that an external write is about to happen; return its start time.

        ``state`` (the chain's state so far) is saved in the same transaction,
        so a worker killed during the write leaves what it had decided (e.g.
        "first contact") for the retry.
        """
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(sa.delete(effects).where(effects.c.inbox_id == inbox_id, effects.c.name == name))
            conn.execute(sa.insert(effects).values(inbox_id=inbox_id, name=name, state="attempting", started_at=now))
            if state is not None:
                conn.execute(sa.update(inbox).where(inbox.c.id == inbox_id).values(result=json.dumps(state)))
        return now

    def effect_done(self, inbox_id: int, name: str, result: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(effects).where(effects.c.inbox_id == inbox_id, effects.c.name == name)
                         .values(state="done", result=json.dumps(result)))

    def effect_forget(self, inbox_id: int, name: str) -> None:
        """Drop an attempt known not to have happened, so it is simply retried."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(effects).where(effects.c.inbox_id == inbox_id, effects.c.name == name))

    def effects_of(self, inbox_id: int) -> list[dict]:
        with self.read() as conn:
            return [dict(r) for r in conn.execute(sa.select(effects).where(effects.c.inbox_id == inbox_id).order_by(effects.c.started_at)).mappings()]

    # -- supporter → conversation map ------------------------------------

    def is_mapped(self, phone: str) -> bool:
        """Does Bling thread this phone in any mailbox?"""
        with self.read() as conn:
            return conn.execute(sa.select(conversations.c.phone).where(conversations.c.phone == phone).limit(1)).first() is not None

    def conversation_for(self, mailbox_id: int, phone: str) -> dict | None:
        with self.read() as conn:
            row = conn.execute(sa.select(conversations).where(
                conversations.c.mailbox_id == mailbox_id, conversations.c.phone == phone)).mappings().first()
        return dict(row) if row else None

    def phone_for_conversation(self, mailbox_id: int, conversation_id: int) -> str | None:
        """The supporter Bling threads this conversation for, if any (the map read backwards; newest wins)."""
        return self.scalar(sa.select(conversations.c.phone).where(
            conversations.c.mailbox_id == mailbox_id, conversations.c.conversation_id == conversation_id)
            .order_by(conversations.c.updated_at.desc()).limit(1))

    def remember_conversation(self, mailbox_id: int, phone: str, conversation_id: int, thread_count: int) -> None:
        self.upsert(conversations, dict(mailbox_id=mailbox_id, phone=phone),
                    dict(conversation_id=conversation_id, thread_count=thread_count, updated_at=self.clock()))

    def upsert(self, table: sa.Table, key: dict, values: dict, insert_only: dict | None = None) -> None:
        """Insert the row ``key`` (with ``insert_only`` too) or update its ``values``, atomically even
        when processes race."""
        insert = self._dialect_insert(table).values(
            **key, **values, **(insert_only or {}))
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_=values))

    def forget_conversation(self, mailbox_id: int, phone: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(conversations).where(
                conversations.c.mailbox_id == mailbox_id, conversations.c.phone == phone))

    # -- shared token ----------------------------------------------------

    def token(self, service: str) -> tuple[str, float] | None:
        with self.read() as conn:
            row = conn.execute(sa.select(secrets_cache).where(secrets_cache.c.service == service)).first()
        return (row.token, row.expires_at) if row else None

    def put_token(self, service: str, token: str, expires_at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(secrets_cache).where(secrets_cache.c.service == service))
            conn.execute(sa.insert(secrets_cache).values(service=service, token=token, expires_at=expires_at))

    def drop_token(self, service: str, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(secrets_cache).where(secrets_cache.c.service == service, secrets_cache.c.token == token))

    # -- shared rate budget ----------------------------------------------

    def take_budget(self, service: str, cost: int, share: float, default_limit: int) -> float:
        """Spend ``cost`` units of this minute's budget; return seconds to wait (0 = go).

        The budget is ``share`` of the provider's per-minute limit, so other
        integrations on the same account keep their headroom.
        """
        now = self.clock()
        with self.engine.begin() as conn:
            row = self._budget_row(conn, service, default_limit, for_update=True)
            if row["blocked_until"] > now:
                return row["blocked_until"] - now
            window_start, used = row["window_start"], row["used"]
            if now - window_start >= 60:
                window_start, used = now, 0
            allowed = max(1, int(row["limit_per_minute"] * share))
            if used + cost > allowed:
                return max(0.05, window_start + 60 - now)
            conn.execute(sa.update(budgets).where(budgets.c.service == service)
                         .values(window_start=window_start, used=used + cost))
            return 0.0

    def observe_budget(self, service: str, limit: int | None, remaining: int | None,
                       retry_after: float | None, default_limit: int) -> None:
        """Fold the provider's rate-limit headers into the shared budget."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = self._budget_row(conn, service, default_limit, for_update=True)
            values: dict[str, Any] = {}
            if limit:
                values["limit_per_minute"] = limit
            if limit and remaining is not None:
                # The provider's count includes other clients of the account.
                values["used"] = max(row["used"] if now - row["window_start"] < 60 else 0, limit - remaining)
                if now - row["window_start"] >= 60:
                    values["window_start"] = now
            if retry_after:
                # The provider's minute ends when its Retry-After does: align ours to it.
                values["blocked_until"] = max(row["blocked_until"], now + retry_after)
                values["window_start"] = now + retry_after - 60
                values["used"] = values.get("limit_per_minute", row["limit_per_minute"])
            if values:
                conn.execute(sa.update(budgets).where(budgets.c.service == service).values(**values))

    def _budget_row(self, conn, service: str, default_limit: int, for_update: bool) -> dict:
        query = sa.select(budgets).where(budgets.c.service == service)
        if for_update and self.is_postgres:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            fresh = dict(service=service, window_start=self.clock(), used=0,
                         limit_per_minute=default_limit, blocked_until=0.0)
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(budgets).values(**fresh))
            except IntegrityError:
                return dict(conn.execute(query).mappings().one())
            return fresh
        return dict(row)

    # -- periodic tasks ----------------------------------------------------

    def take_periodic(self, name: str, every: float) -> bool:
        """True for exactly one caller once ``name`` is due; it is then due again ``every`` seconds later.

        Every worker process asks; the compare-and-set makes one of them run
        the task, so several workers never reconcile or load twice.
        """
        now = self.clock()
        with self.engine.begin() as conn:
            taken = conn.execute(sa.update(periodic_runs)
                                 .where(periodic_runs.c.name == name, periodic_runs.c.next_run_at <= now)
                                 .values(next_run_at=now + every, last_run_at=now)).rowcount
            if taken:
                return True
            if conn.execute(sa.select(periodic_runs.c.name).where(periodic_runs.c.name == name)).first():
                return False
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(periodic_runs).values(name=name, next_run_at=now + every, last_run_at=now))
            except IntegrityError:  # another process registered it first: it runs it
                return False
            return True

    def last_periodic_run(self, name: str) -> float | None:
        """When ``name`` last ran in any process (None: never)."""
        with self.read() as conn:
            return conn.execute(sa.select(periodic_runs.c.last_run_at).where(periodic_runs.c.name == name)).scalar()

    # -- loader cursors ----------------------------------------------------

    def cursor(self, name: str) -> str | None:
        """Where the loader ``name`` got to, or None before its first run."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, value: str) -> None:
        """Remember where the loader ``name`` got to."""
        update = sa.update(cursors).where(cursors.c.name == name).values(value=value, updated_at=self.clock())
        try:
            with self.engine.begin() as conn:
                if not conn.execute(update).rowcount:
                    conn.execute(sa.insert(cursors).values(name=name, value=value, updated_at=self.clock()))
        except IntegrityError:  # another process inserted it first
            with self.engine.begin() as conn:
                conn.execute(update)
