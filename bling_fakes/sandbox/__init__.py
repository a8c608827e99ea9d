"""The sandbox: Bling against built-in stand-ins for Twilio and Help Scout.

``bling serve --sandbox`` (or ``bash scripts/serve.sh --sandbox``) runs
Bling with no accounts at all: generated fake credentials, two fake
hotlines, and small Falcon resources under ``/sandbox/twilio`` and
``/sandbox/helpscout`` that implement the API calls Bling makes, with
their state in the local store's SQL tables. Bling reaches them through
the ordinary base-URL settings, so every byte takes the production path:
signed webhooks in, API calls out. ``/sandbox`` is a page with the
supporters' phones and the Help Scout side.

The stand-ins are the fakes every test and the benchmark use too
(bling_fakes/helpscout.py, bling_fakes/twilio.py), over the sandbox's
state (bling_fakes/sandbox/state.py). The production app never mounts
them: the sandbox builds its own app around Bling's (bling_fakes/sandbox/
app.py), and its settings are made by the code that starts it
(bling_fakes/sandbox/config.py, before Bling reads its settings).

It is marked SANDBOX everywhere (page banner, every log line, /healthz)
and refuses to start when any real credential is in the environment
(``config.REAL_CREDENTIALS``), so it cannot be switched on by accident
next to a real account.
"""

from __future__ import annotations

FLAG = "BLING_SANDBOX"


def mount(app, services) -> None:
    """Add the stand-ins and the sandbox page to Bling's Falcon app."""
    from bling_fakes.http import FalconSink
    from bling_fakes.sandbox import helpscout_api, twilio_api
    from bling_fakes.sandbox.page import add_page_routes
    from bling_fakes.sandbox.state import SandboxState

    state = SandboxState(services.store.engine, services.settings)
    state.seed()
    settings = services.settings
    app.add_sink(FalconSink(helpscout_api.sandbox_helpscout(state, settings), helpscout_api.PREFIX),
                 prefix=helpscout_api.PREFIX)
    app.add_sink(FalconSink(twilio_api.sandbox_twilio(state, settings), twilio_api.PREFIX), prefix=twilio_api.PREFIX)
    add_page_routes(app, state, services)
