"""Recognise a supporter who is already a Help Scout customer, by phone number.

Runs first in the SMS chains (before ``inbound_sms``) and the call chains
(before ``call_log``, ``voicemail`` and ``transcription``; it reads an
event's ``from_`` or ``caller``): a supporter Bling does not know yet in
this mailbox is looked up with Help Scout's customer search by phone
(``GET /v3/customers/search?query=phone:"…"``, the E.164 and national
forms). A customer whose stored phone normalises to the same number, and
who is not one of Bling's own blackhole identities, is used:
``state['customer']`` = ``{"id", "email"}``, and the message is posted as
that customer (bling/conversations.py). The answer is cached in the store:
a match for good, "no match" for ``NO_MATCH_DAYS`` — so the several
callbacks of one call (ring, voicemail, transcription) search once. A
supporter Bling already threads keeps the identity their conversations
have. A search Help Scout refuses (no permission, 4xx) means no match;
Bling falls back to the blackhole identity, as before.
"""

from __future__ import annotations

import phonenumbers

from bling.helpscout import HelpScoutError
from bling.hookspecs import hookimpl
from bling.phones import from_blackhole, to_e164
from bling.sms_state import cache_match, cached_match

#: Re-ask Help Scout about an unmatched phone after this many days.
NO_MATCH_DAYS = 7
#: Candidates checked (each may cost one GET when the search result lacks phones).
MAX_CANDIDATES = 3


@hookimpl
def handle_event(context, event):
    phone = to_e164(event.get("from_") or event.get("caller"))  # a text's sender or a call's caller
    if not phone or context.mailbox is None:
        return None
    cached = cached_match(context.store, phone)
    if cached and cached["customer_id"]:
        context.state["customer"] = {"id": cached["customer_id"], "email": cached["email"]}
        return cached["customer_id"]
    fresh = cached and context.store.clock() - cached["checked_at"] < NO_MATCH_DAYS * 86400
    if fresh or context.store.conversation_for(context.mailbox.mailbox_id, phone):
        return None
    match = find_customer(context, phone)
    cache_match(context.store, phone, match["id"] if match else None, match["email"] if match else None)
    if match:
        context.state["customer"] = match
        return match["id"]
    return None


def find_customer(context, phone: str) -> dict | None:
    """``{"id", "email"}`` of the customer with this phone, or None."""
    try:
        found = context.helpscout.search_customers_by_phone(search_forms(phone))
    except HelpScoutError as ex:
        if not ex.permanent:
            raise  # rate limit, outage, credentials: retried with the job
        context.logger.warning("Help Scout customer search refused (%s); using the blackhole identity", ex)
        return None
    domain = context.settings.blackhole_domain
    for candidate in found[:MAX_CANDIDATES]:
        customer = candidate if _has_contacts(candidate) else _full(context, candidate.get("id"))
        if customer is None:
            continue
        emails = _values(customer, "emails")
        if any(from_blackhole(email, domain) for email in emails):
            continue  # Bling's own stand-in for this phone: the default anyway
        if phone in {to_e164(value) for value in _values(customer, "phones")}:
            return {"id": int(customer["id"]), "email": emails[0] if emails else None}
    return None


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
