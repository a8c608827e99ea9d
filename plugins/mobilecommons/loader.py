"""Load the texts supporters sent to Mobile Commons campaigns into Bling.

Mobile Commons cannot sign a webhook, so Bling fetches received messages
through the API (``bling mobilecommons load``, and every few minutes in the
worker) and feeds them through the host's one way in (``bling.routing.accept``, the same as
a Twilio text's webhook) into the route named ``mobilecommons-messages``
(routes.toml; it takes no HTTP request) which gives the chain; its campaign
gives the mailbox (BLING_MAILBOXES); the message id is the idempotency key,
so a message is never ingested twice whatever the overlap; the chain's
triage runs as at the edge; accepted events are queued for the worker. A stored cursor remembers how far the last run got.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from bling.errors import ConfigError
from bling.routing.accept import ACCEPTED, DUPLICATE, IGNORED, accept
from .client import MobileCommonsClient
from .events import TRANSPORT
from .shapes import ReceivedMessage

log = logging.getLogger("bling.mobilecommons")

#: The route (routes.toml ``name``) whose chain the loaded texts run; it takes no HTTP request (``methods = []``).
ROUTE = "mobilecommons-messages"
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
    """Accept each message through the Mobile Commons route (``bling.routing.accept``), exactly once."""
    _check_route(services)
    settings = services.settings
    for message in messages:
        summary.fetched += 1
        if settings.mailbox_for(TRANSPORT, message.campaign_id or "") is None:
            summary.unmapped[message.campaign_id or "(none)"] += 1
            continue
        outcome = accept(services, ROUTE, _payload(message, auto_reply), via="mobilecommons load", check_first=True,
                         accepted_level=logging.INFO)
        if outcome.status == ACCEPTED:
            summary.loaded += 1  # accepted is queued: a worker claims it
        elif outcome.status == DUPLICATE:
            summary.duplicates += 1
        elif outcome.status == IGNORED:
            summary.ignored += 1
        else:
            summary.invalid += 1
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


def _check_route(services) -> None:
    """The route must exist and run a job chain, or every message would be lost: stop first."""
    try:
        chain = services.chain_named(ROUTE)
    except ConfigError as ex:
        raise ConfigError(f"{ex}; add the Mobile Commons route (see docs/mobilecommons.md)") from None
    if chain.job_hooks is None:
        raise ConfigError(f"{services.settings.routes_path}: route {ROUTE!r} must run its chain in a worker "
                          "(respond = \"chain\" without background would drop every message)")


def _payload(message: ReceivedMessage, auto_reply: bool) -> dict:
    return {"message_id": message.id, "campaign_id": message.campaign_id, "from_": message.phone or "",
            "body": message.body, "received_at": message.received_at.isoformat() if message.received_at else "",
            "profile_id": message.profile_id, "message_type": message.message_type, "media": [],
            "no_auto_reply": not auto_reply}
