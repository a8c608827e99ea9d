"""One way in: every event, whatever brought it, is accepted here.

The HTTP edge (after it has verified the sender and turned the body into
fields), the Mobile Commons loader and reconciliation all call
:func:`accept` (plugins import it too: this is the host, not the edge), so an
event is loaded, keyed, triaged, recorded and logged the same way whichever
door it came through:

1. find the route by name (routes.toml ``name``);
2. load the raw payload with the route's schema (refusing NUL characters and
   absurd nesting first): a bad one is ``invalid``, its fields named;
3. compute the idempotency key, find the mailbox (none: ``ignored``) and run
   the chain's triage (a reason: ``ignored``);
4. write the inbox row under the key (one INSERT, group-committed; the row is
   the queue entry): ``accepted``, or ``duplicate`` when the key is already
   held. A ``respond = "chain"`` route without a ``background`` chain keeps no
   row: its event is ``admitted`` and the edge runs the chain in the request;
5. log one line saying which of these happened, and return it.

Only a failure to record raises (:class:`NotRecorded`): the HTTP edge answers
503 to that, so Twilio's fallback can tell the supporter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from marshmallow import ValidationError

from bling.config.mailboxes import Mailbox
from bling.context import Context
from bling.payloads import refuse_nul_and_deep_nesting

if TYPE_CHECKING:
    from bling.routing.chains import Chain
    from bling.services import Services

log = logging.getLogger("bling.accept")

ACCEPTED = "accepted"    # a new inbox row: a worker runs the route's job chain
DUPLICATE = "duplicate"  # the key was already held: acknowledged, nothing more
IGNORED = "ignored"      # no mailbox, or triage gave a reason: nothing recorded
INVALID = "invalid"      # the payload failed the route's schema: nothing recorded
ADMITTED = "admitted"    # passed triage on a route that keeps no row (its chain runs in the request)


class NotRecorded(Exception):
    """The store could not record an accepted event (the caller must not acknowledge it)."""


@dataclass(frozen=True)
class Outcome:
    """What became of one event: ``status`` is one of the five names above."""

    status: str
    chain: Chain
    event: dict | None = None        # the loaded event (None when invalid)
    key: str | None = None           # its idempotency key
    reason: str = ""                 # why it was ignored
    errors: dict | list | None = None  # the schema's messages, field by field, when invalid
    context: Context | None = None   # the context triage saw (the edge's in-request chain uses it)
    inbox_id: int | None = None

    @property
    def mailbox(self) -> Mailbox | None:
        return self.context.mailbox if self.context else None


def accept(services: Services, route: str, payload: dict, *, via: str = "http", request_base: str = "",
           check_first: bool = False, complete: Callable[[dict], dict] | None = None,
           accepted_level: int = logging.DEBUG) -> Outcome:
    """Accept ``payload`` (the sender's raw fields) into route ``route``; say what happened.

    ``via`` names the door in the log line. ``check_first`` asks the inbox
    for the key before triage: for loaders that re-read overlapping windows,
    where most events are duplicates (the HTTP edge never does: one round
    trip per request). ``complete(payload)`` runs only for an event whose key
    the inbox does not hold yet and returns the payload with what costs an
    API call added (reconcile's MMS media); the result is loaded again.
    ``accepted_level`` is the log level of an accepted event's line (the
    edge's is DEBUG: its request line already says it).
    """
    chain = services.chain_named(route)
    event = _load(chain, payload, via)
    if isinstance(event, Outcome):
        return event
    if check_first or complete is not None:
        key = chain.schema.idempotency_key(event)
        if services.store.has_key(key):  # a re-read overlap, expected: its line is DEBUG
            return _logged(Outcome(DUPLICATE, chain, event, key), via, duplicate_level=logging.DEBUG)
        if complete is not None:
            event = _load(chain, complete(payload), via)
            if isinstance(event, Outcome):
                return event
    settings = services.settings
    mailbox = chain.schema.locate(event, settings)
    context = Context(settings=settings, route=chain.route, services=services, mailbox=mailbox,
                      logger=log, request_base=request_base)
    reason = "no configured mailbox for this event" if mailbox is None else chain.triage(context, event)
    if reason:
        return _logged(Outcome(IGNORED, chain, event, _key_or_none(chain, event), reason=reason, context=context), via)
    route_ = chain.route
    if not route_.is_job and not route_.background:
        return Outcome(ADMITTED, chain, event, context=context)  # such schemas need no key: nothing is recorded
    key = chain.schema.idempotency_key(event)
    try:
        inbox_id, new = services.store.accept(key, route_.path, chain.schema.supporter_key(event, settings), event,
                                              lane=route_.lane)
    except Exception as ex:
        log.exception("could not record %s event %s (via %s)", route_.path, key, via)
        raise NotRecorded(f"{route_.path}: event {key} could not be recorded") from ex
    outcome = Outcome(ACCEPTED if new else DUPLICATE, chain, event, key, context=context, inbox_id=inbox_id)
    return _logged(outcome, via, accepted_level)


def _load(chain: Chain, payload: dict, via: str) -> dict | Outcome:
    try:
        refuse_nul_and_deep_nesting(payload)
        return chain.schema.load(payload)
    except ValidationError as ex:
        return _logged(Outcome(INVALID, chain, errors=ex.messages), via)


def _key_or_none(chain: Chain, event: dict) -> str | None:
    """The key for an ignored event's log line; a route that records nothing may have none."""
    try:
        return chain.schema.idempotency_key(event)
    except Exception:
        return None


def _logged(outcome: Outcome, via: str, accepted_level: int = logging.DEBUG, duplicate_level: int = logging.INFO) -> Outcome:
    """The one line per event (nothing for ``admitted``: the request's own line says it)."""
    path = outcome.chain.route.path
    if outcome.status == ACCEPTED:
        if log.isEnabledFor(accepted_level):
            log.log(accepted_level, "accepted %s event %s (via %s)", path, outcome.key, via)
    elif outcome.status == DUPLICATE:
        log.log(duplicate_level, "duplicate delivery of %s ignored (%s, via %s)", outcome.key, path, via)
    elif outcome.status == IGNORED:
        log.info("ignored %s event %s (via %s): %s", path, outcome.key or "?", via, outcome.reason)
    elif outcome.status == INVALID:  # the HTTP sender is told (422); a loader's event would vanish unseen
        log.log(logging.INFO if via == "http" else logging.WARNING, "invalid %s event (via %s): %s", path, via,
                describe_errors(outcome.errors))
    return outcome


def describe_errors(messages, prefix: str = "") -> str:
    """Name each field at fault, e.g. 'MessageSid: Missing data for required field.'"""
    if isinstance(messages, dict):
        return "; ".join(describe_errors(v, f"{prefix}.{k}" if prefix else str(k)) for k, v in messages.items())
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return f"{prefix}: {' '.join(messages)}"
    if isinstance(messages, list):
        return "; ".join(describe_errors(m, prefix) for m in messages)
    return f"{prefix}: {messages}"
