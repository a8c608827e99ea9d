"""Make the conversation an agent texted from the supporter's current one.

Runs after ``agent_reply``. When an agent texts a supporter from a
conversation Bling does not thread for them — a new phone conversation the
agent started for a customer, or an older one — the supporter's answer
should land there, not in the conversation Bling last used. So, once the
reply is sent, the supporter → conversation map points to it, and the
customer (unless it is Bling's own blackhole identity) is remembered as
the owner of that phone number (plugin ``customer_match`` then posts the
supporter's texts as that customer).
"""

from __future__ import annotations

from bling.hookspecs import hookimpl
from bling.phones import from_blackhole
from bling.store.supporters import cache_match


@hookimpl
def handle_event(context, event):
    phone, sids = context.state.get("supporter"), context.state.get("sms_sids")
    if not phone or not sids:
        return None  # nothing was texted: nothing for the supporter to answer
    mailbox_id, conversation_id = context.mailbox.mailbox_id, event["id"]
    known = context.store.conversation_for(mailbox_id, phone)
    if known and known["conversation_id"] == conversation_id:
        return None
    context.store.remember_conversation(mailbox_id, phone, conversation_id, event.get("thread_count") or 1)
    customer = event["customer"]
    domain = context.settings.blackhole_domain
    email = customer.get("email") if isinstance(customer.get("email"), str) else None
    if customer.get("id") and not from_blackhole(email, domain):
        cache_match(context.store, phone, int(customer["id"]), email)
    context.state["now_threads_into"] = conversation_id
    return conversation_id
