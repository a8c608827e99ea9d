"""Load the texts supporters sent to Mobile Commons campaigns into Bling.

Mobile Commons cannot sign a webhook, so Bling fetches received messages
through the API (``bling mobilecommons load``, and every few minutes in the
worker) and feeds them into the same pipeline as a Twilio text: the route
whose schema is ``mobilecommons_message`` (routes.toml) gives the chain;
its campaign gives the mailbox (BLING_MAILBOXES); the message id is the
idempotency key, so a message is never ingested twice whatever the
overlap; the chain's triage runs as at the edge; accepted events are
queued for the worker. A stored cursor remembers how far the last run got.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from marshmallow import ValidationError

from bling.context import Context
from bling.errors import ConfigError
from .client import MobileCommonsClient
from .events import TRANSPORT
from .shapes import ReceivedMessage

log = logging.getLogger("bling.mobilecommons")

SCHEMA = "mobilecommons_message"
CURSOR = "mobilecommons:received"
#: Re-read this much before the cursor: a message may be listed a little after it arrived.
OVERLAP = timedelta(minutes=10)
#: Window of a run with no cursor and no --since (a first scheduled run).
FIRST_WINDOW = timedelta(minutes=15)


@dataclass
class LoadSummary:
    """What one run did."""

    since: datetime
    until: datetime
    fetched: int = 0
    loaded: int = 0
    duplicates: int = 0
    ignored: int = 0
    invalid: int = 0
    unmapped: Counter = field(default_factory=Counter)  # campaign id → messages

    def as_dict(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "fetched": self.fetched,
                "loaded": self.loaded, "duplicates": self.duplicates, "ignored": self.ignored,
                "invalid": self.invalid, "unmapped": dict(self.unmapped)}

    def describe(self) -> str:
        unmapped = sum(self.unmapped.values())
        campaigns = ", ".join(f"{c} ({n})" for c, n in sorted(self.unmapped.items()))
        return (f"{self.fetched} received, {self.loaded} loaded, {self.duplicates} skipped as duplicates, "
                f"{self.ignored} ignored, {self.invalid} invalid, {unmapped} from unmapped campaigns"
                + (f": {campaigns}" if campaigns else ""))


def uses_mobilecommons(settings) -> bool:
    return any(m.transport == TRANSPORT for m in settings.mailboxes)


def window(services, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The run's window: explicit, or from the cursor (with overlap), or a first short one."""
    now = datetime.fromtimestamp(services.store.clock(), timezone.utc)
    until = until or now
    if since is None:
        cursor = services.store.cursor(CURSOR)
        since = datetime.fromisoformat(cursor) - OVERLAP if cursor else until - FIRST_WINDOW
    if since >= until:
        raise ConfigError(f"--since ({since.isoformat()}) must be before --until ({until.isoformat()})")
    return since, until


def fetch(services, since: datetime, until: datetime, client: MobileCommonsClient | None = None,
          on_page: Callable[[int, int | None], None] | None = None) -> list[ReceivedMessage]:
    """Every message received in the window, oldest first (so one supporter's run in order)."""
    client = client or MobileCommonsClient.from_settings(services.settings)
    messages = list(client.received_messages(since, until, on_page=on_page))
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(messages, key=lambda m: (m.received_at or epoch, int(m.id) if m.id.isdigit() else 0, m.id))


def ingest(services, messages: Iterable[ReceivedMessage], summary: LoadSummary, auto_reply: bool = True) -> LoadSummary:
    """Accept each message through the Mobile Commons route, exactly once."""
    chain = _chain(services)
    settings, store = services.settings, services.store
    for message in messages:
        summary.fetched += 1
        mailbox = settings.mailbox_for(TRANSPORT, message.campaign_id or "")
        if mailbox is None:
            summary.unmapped[message.campaign_id or "(none)"] += 1
            continue
        try:
            event = chain.schema.load(_payload(message, auto_reply))
        except ValidationError as ex:
            summary.invalid += 1
            log.warning("Mobile Commons message %s is not usable: %s", message.id, ex.messages)
            continue
        key = chain.schema.idempotency_key(event)
        if store.has_key(key):
            summary.duplicates += 1
            continue
        context = Context(settings=settings, route=chain.route, services=services, mailbox=mailbox, logger=log)
        reason = chain.triage(context, event)
        if reason:
            summary.ignored += 1
            log.info("ignored Mobile Commons message %s: %s", key, reason)
            continue
        _inbox_id, new = store.accept(key, chain.route.path, chain.schema.supporter_key(event, settings), event,
                                      lane=chain.route.lane)
        if not new:
            summary.duplicates += 1
            continue
        summary.loaded += 1  # accepted is queued: a worker claims it
    return summary


def load(services, since: datetime | None = None, until: datetime | None = None, auto_reply: bool = True,
         client: MobileCommonsClient | None = None) -> LoadSummary:
    """Fetch and ingest one window, then move the cursor forward (never back)."""
    since, until = window(services, since, until)
    summary = LoadSummary(since, until)
    ingest(services, fetch(services, since, until, client), summary, auto_reply)
    advance_cursor(services, until)
    return summary


def advance_cursor(services, until: datetime) -> None:
    """Remember ``until`` unless an earlier run already got further (a back-fill of old days)."""
    current = services.store.cursor(CURSOR)
    if current is None or datetime.fromisoformat(current) < until:
        services.store.set_cursor(CURSOR, until.isoformat())


def scheduled_load(services) -> dict | None:
    """The worker's periodic run: nothing when no mailbox uses Mobile Commons."""
    if not uses_mobilecommons(services.settings):
        return None
    summary = load(services)
    log.info("Mobile Commons: %s", summary.describe())
    return summary.as_dict()


def _chain(services):
    for chain in services.chains:
        if chain.route.schema == SCHEMA and chain.job_hooks is not None:
            return chain
    raise ConfigError(f"{services.settings.routes_path}: no route with schema = \"{SCHEMA}\" runs a job chain; "
                      "add the Mobile Commons route (see docs/mobilecommons.md)")


def _payload(message: ReceivedMessage, auto_reply: bool) -> dict:
    return {"message_id": message.id, "campaign_id": message.campaign_id, "from_": message.phone or "",
            "body": message.body, "received_at": message.received_at.isoformat() if message.received_at else "",
            "profile_id": message.profile_id, "message_type": message.message_type, "media": [],
            "no_auto_reply": not auto_reply}
