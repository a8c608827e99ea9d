"""The dialer page (route ``dialer-page``, ``GET …?t=<token>``): whom you call, your phone, Dial.

The token's signature was checked at the edge; here its expiry is checked
against the store's clock. An expired link gets a page saying so and how
to get a new one. The page carries a fresh CSRF value bound to the token.
"""

from __future__ import annotations

from . import tokens
from .page import CALL_ROUTE, CANCEL_ROUTE, STATUS_ROUTE, dialer_page, refusal_page, script_paths
from .web import TITLES
from bling.hookspecs import hookimpl

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (CALL_ROUTE, STATUS_ROUTE, CANCEL_ROUTE)


@hookimpl
def handle_event(context, event):
    settings = context.settings
    try:
        claims = tokens.check(settings.secret_key, event["token"], context.store.clock())
    except tokens.TokenRefused as ex:
        return refusal_page(TITLES.get(ex.reason, "Refused"), ex.message, 410 if ex.reason == "expired" else 403)
    if context.mailbox.number is None:
        return refusal_page("No hotline number", "This mailbox's hotline has no phone number to call from.", 409)
    csrf = tokens.new_csrf(settings.secret_key, claims)
    return dialer_page(claims, event["token"], csrf, context.mailbox.number, settings.dialer_calls_per_token,
                       script_paths(context), sandbox_phone=_sandbox_phone(context) if settings.sandbox else None)


def _sandbox_phone(context) -> str | None:
    """A fake agent phone of this mailbox's ring group, else of any hotline's (the sandbox gives them ring
    groups of fake phones, and any of them answers)."""
    groups = [getattr(context.mailbox_options, "ring", ())] + [
        getattr(options, "ring", ()) for options in context.settings.mailbox_options.values()]
    return next((group[0] for group in groups if group), None)
