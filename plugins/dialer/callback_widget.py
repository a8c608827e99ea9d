"""The Help Scout sidebar widget: the supporter's number and a "Call back" link.

Route ``helpscout-app`` (POST; Help Scout's legacy dynamic app, signed
with HELPSCOUT_APP_SECRET). For a conversation in a hotline mailbox whose
customer Bling can call — the blackhole e-mail or a phone on the customer —
it answers the number and a link to the dialer carrying a fresh token bound
to the conversation, mailbox, supporter number and agent. Otherwise it
answers one short line saying why there is nothing to call.
"""

from __future__ import annotations

from . import tokens, widget
from .numbers import supporter_refusal
from bling.hookspecs import hookimpl
from bling.routing.urls import url_for
from bling.phones import pretty
from bling.payloads import customer_phone

#: Name (in routes.toml) of the dialer page's route, which the Call back link opens.
DIALER_PAGE_ROUTE = "dialer-page"

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (DIALER_PAGE_ROUTE,)


@hookimpl
def handle_event(context, event):
    return widget.answer(sidebar_html(context, event))


def sidebar_html(context, event: dict) -> str:
    """The widget's markup for this conversation and agent."""
    settings = context.settings
    ticket, user = event["ticket"], event["user"]
    if not ticket or not ticket.get("id"):
        return widget.line_html("Save this conversation first; then Bling can call the supporter back.")
    if context.mailbox.number is None:
        return widget.line_html("This mailbox's hotline has no phone number to call from.")
    if not settings.secret_key:
        return widget.line_html("Call back is turned off: BLING_SECRET_KEY is not set on Bling.")
    if not user.get("id"):
        return widget.line_html("Help Scout did not say which agent is asking, so Bling cannot make a call-back link.")
    supporter = customer_phone(event["customer"], settings.blackhole_domain)
    if supporter is None:
        return widget.line_html("No phone number for this customer: Bling calls back people who texted or called the hotline.")
    refusal = supporter_refusal(supporter)
    if refusal:
        return widget.line_html(refusal)
    name = " ".join(part for part in (user.get("fname"), user.get("lname")) if part) or f"Help Scout user {user['id']}"
    token = tokens.issue(settings.secret_key, conversation_id=int(ticket["id"]), conversation_number=ticket.get("number"),
                         mailbox_id=context.mailbox.mailbox_id, supporter=supporter, user_id=int(user["id"]),
                         agent_name=name, now=context.store.clock(), lifetime=settings.dialer_token_seconds)
    link = url_for(context, DIALER_PAGE_ROUTE) + "?t=" + token  # as issued: urlsafe base64, its "=" reads fine in a query
    return widget.callback_html(pretty(supporter), link, settings.dialer_token_seconds // 60)
