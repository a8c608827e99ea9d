"""Recognise a supporter who is already a Help Scout customer — and one who is no customer at all.

Runs first in the SMS chains (before ``inbound_sms``) and the call chains
(before ``call_log``, ``voicemail`` and ``transcription``; it reads an
event's ``from_`` or ``caller``). A supporter Bling does not thread yet in
this mailbox is looked up with one v3 customer search asking for the phone
(E.164 and national forms) OR Bling's blackhole address for it:

- a customer whose stored phone normalises to the same number, and who is
  not one of Bling's own blackhole identities, is used:
  ``state['customer']`` = ``{"id", "email"}``, and the message is posted as
  that customer (bling/clients/conversations.py);
- when the search finds nobody at all — neither such a customer nor the
  blackhole one — the supporter has never written to this account:
  ``state['new_to_helpscout']`` is set and ``inbound_sms`` creates the
  conversation without searching for one (3 units instead of 4). Only a
  blackhole customer found means a conversation search follows.

**Batched after a broadcast.** The search also asks about the never-seen
supporters queued right behind this one (as many as fit Help Scout's
500-character query), so during a burst most new supporters cost one
write. Answers are cached in the store: a match for good, "no match" for
``NO_MATCH_DAYS``; the "nobody at all" verdict is trusted for
``NEW_VERDICT_SECONDS`` (long enough for a backlog to drain). A search
Help Scout refuses (no permission, 4xx) means no match; Bling falls back
to the blackhole identity and its conversation search, as before.
"""

from __future__ import annotations

from bling.clients.helpscout import CUSTOMER_QUERY_MAX, HelpScoutError, customer_query
from bling.hookspecs import hookimpl
from bling.phones import blackhole_email, from_blackhole, phonenumbers, to_e164
from bling.store.supporters import cache_match, cached_match

#: Re-ask Help Scout about an unmatched phone after this many days.
NO_MATCH_DAYS = 7
#: Trust "Help Scout has no customer for this phone" this long (a drained backlog's age).
NEW_VERDICT_SECONDS = 3600
#: Candidates of the current supporter checked (each may cost one GET when the result lacks phones).
MAX_CANDIDATES = 3
#: Queued events looked at for never-seen supporters to ask about in the same search.
LOOKAHEAD_EVENTS = 25
#: A search answering this many customers may have more on a next page.
SEARCH_PAGE = 25


@hookimpl
def handle_event(context, event):
    phone = to_e164(event.get("from_") or event.get("caller"))  # a text's sender or a call's caller
    if not phone or context.mailbox is None:
        return None
    store = context.store
    cached = cached_match(store, phone)
    if cached and cached["customer_id"]:
        context.state["customer"] = {"id": cached["customer_id"], "email": cached["email"]}
        return cached["customer_id"]
    if store.conversation_for(context.mailbox.mailbox_id, phone):
        return None  # a supporter Bling already threads keeps the identity their conversations have
    if not (cached and store.clock() - cached["checked_at"] < NO_MATCH_DAYS * 86400):
        cached = search(context, phone)
    if cached["customer_id"]:
        context.state["customer"] = {"id": cached["customer_id"], "email": cached["email"]}
        return cached["customer_id"]
    if cached["nobody"] and store.clock() - cached["checked_at"] < NEW_VERDICT_SECONDS:
        context.state["new_to_helpscout"] = True
    return None


def search(context, phone: str) -> dict:
    """Search Help Scout for ``phone`` and the never-seen supporters queued behind it; cache and return its answer."""
    domain = context.settings.blackhole_domain
    phones = batch(context, phone)
    query = customer_query([form for p in phones for form in search_forms(p)],
                           [blackhole_email(p, domain) for p in phones])
    try:
        found = context.helpscout.search_customers(query)
    except HelpScoutError as ex:
        if not ex.permanent:
            raise  # rate limit, outage, credentials: retried with the job
        context.logger.warning("Help Scout customer search refused (%s); using the blackhole identity", ex)
        cache_match(context.store, phone, None, None)  # no match; whether a conversation exists is unknown
        return cached_match(context.store, phone)
    customers, complete = _examined(context, found)
    for each in phones:
        match, seen = _answer_for(each, customers, domain)
        # "nobody" only when every customer the search returned could be read: else a conversation may exist
        cache_match(context.store, each, match and match["id"], match and match["email"], nobody=complete and not seen)
    return cached_match(context.store, phone)


def batch(context, phone: str) -> list[str]:
    """``phone`` first, then queued supporters Bling knows nothing about, as many as fit one query."""
    store, domain = context.store, context.settings.blackhole_domain
    phones = [phone]
    if context.route is None:  # not run by a worker: no queue to look into
        return phones
    for row in store.upcoming(context.route.lane, LOOKAHEAD_EVENTS):
        other = to_e164(row["payload"].get("from_") or row["payload"].get("caller"))
        if not other or other in phones or cached_match(store, other) or store.is_mapped(other):
            continue
        longer = phones + [other]
        query = customer_query([f for p in longer for f in search_forms(p)], [blackhole_email(p, domain) for p in longer])
        if len(query) > CUSTOMER_QUERY_MAX:
            break
        phones = longer
    return phones


def _examined(context, found: list[dict]) -> tuple[list[dict], bool]:
    """The customers with their e-mails and phones (fetching up to MAX_CANDIDATES that lack them),
    and whether every customer found could be read (a full page may hide more)."""
    customers, fetched, complete = [], 0, len(found) < SEARCH_PAGE
    for customer in found:
        if not _has_contacts(customer):
            if fetched >= MAX_CANDIDATES:
                complete = False
                continue
            fetched += 1
            customer = _full(context, customer.get("id"))
            if customer is None:
                complete = False
                continue
        customers.append(customer)
    return customers, complete


def _answer_for(phone: str, customers: list[dict], domain: str) -> tuple[dict | None, bool]:
    """(the real customer with this phone or None, whether any customer — real or blackhole — is this phone's)."""
    match, seen = None, False
    for customer in customers:
        emails = _values(customer, "emails")
        if blackhole_email(phone, domain) in emails:
            seen = True
        elif not any(from_blackhole(e, domain) for e in emails) \
                and phone in {to_e164(value) for value in _values(customer, "phones")}:
            seen = True
            match = match or {"id": int(customer["id"]), "email": emails[0] if emails else None}
    return match, seen


def search_forms(phone: str) -> list[str]:
    """The forms a phone may be stored in that are worth searching: E.164 and national digits."""
    national = str(phonenumbers.parse(phone, None).national_number)
    return [phone, national] if national != phone else [phone]


def _full(context, customer_id) -> dict | None:
    try:
        return context.helpscout.get_customer(int(customer_id))
    except (TypeError, ValueError):
        return None
    except HelpScoutError as ex:
        if not ex.permanent:
            raise
        return None


def _has_contacts(customer: dict) -> bool:
    embedded = customer.get("_embedded")
    return isinstance(embedded, dict) and "phones" in embedded


def _values(customer: dict, kind: str) -> list[str]:
    """E-mail addresses or phone numbers of a v2/v3 customer (``_embedded`` entries or a list)."""
    embedded = customer.get("_embedded") if isinstance(customer.get("_embedded"), dict) else {}
    entries = embedded.get(kind) or customer.get(kind) or []
    values = [entry.get("value") if isinstance(entry, dict) else entry for entry in entries]
    return [value for value in values if isinstance(value, str) and value]
