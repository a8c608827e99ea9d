"""The sandbox: Bling against built-in stand-ins for Twilio and Help Scout.

``bling serve --sandbox`` (or ``bash scripts/serve.sh --sandbox``) runs
Bling with no accounts at all: generated fake credentials, two fake
hotlines, and small Falcon resources under ``/sandbox/twilio`` and
``/sandbox/helpscout`` that implement the API calls Bling makes, with
their state in the local store's SQL tables. Bling reaches them through
the ordinary base-URL settings, so every byte takes the production path:
signed webhooks in, API calls out. ``/sandbox`` is a page with the
supporters' phones and the Help Scout side.

It is marked SANDBOX everywhere (page banner, every log line, /healthz)
and refuses to start when any real credential is in the environment
(``config.REAL_CREDENTIALS``), so it cannot be switched on by accident
next to a real account.
"""

from __future__ import annotations

FLAG = "BLING_SANDBOX"


def mount(app, services) -> None:
    """Add the stand-ins and the sandbox page to Bling's Falcon app."""
    from bling_fakes.sandbox.helpscout_api import HelpScoutStandIn
    from bling_fakes.sandbox.page import add_page_routes
    from bling_fakes.sandbox.state import SandboxState
    from bling_fakes.sandbox.twilio_api import TwilioStandIn

    state = SandboxState(services.store.engine, services.settings)
    state.seed()
    app.add_sink(HelpScoutStandIn(state, services.settings), prefix="/sandbox/helpscout")
    app.add_sink(TwilioStandIn(state, services.settings), prefix="/sandbox/twilio")
    add_page_routes(app, state, services)
