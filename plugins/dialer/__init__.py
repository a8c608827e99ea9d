"""Call back from Help Scout: the sidebar widget, the dialer page and bridged calls.

An agent looking at a hotline conversation sees a "Call back" link in a Help
Scout sidebar app (route ``helpscout-app``). The link opens the dialer
page (route ``dialer-page``, ``?t=<token>``) with a signed, expiring token bound to
the conversation, mailbox, supporter number and agent. "Dial" asks Twilio to
ring the agent's phone from the hotline number; the agent presses a key (so
their voicemail can never start a call), then Twilio bridges the supporter
with the hotline number as caller id. When it is over a note in the
conversation says who called and how it went.

Modules: ``tokens`` (links, CSRF values, call ids), ``numbers`` (which phones
may be called), ``call_log`` (the call log and its rate limits; its table in ``tables``), ``twiml``
(what each leg hears), ``outcome`` (status words for the page and the
note), ``ownership`` (which call a request may touch), ``page`` and
``widget`` (HTML), ``web`` (schemas and verifiers of the routes),
``config`` (settings). The route handlers are the ``callback_widget`` and
``dialer_*`` plugins.
"""

from bling.hookspecs import hookimpl

from .web import bling_schemas, bling_verifiers  # noqa: F401  (the dialer routes' payloads and signatures)

#: Modules that are plugins in their own right (named in routes.toml chains).
PLUGINS = ("callback_widget", "dialer_page", "dialer_call", "dialer_answer", "dialer_connect",
           "dialer_status", "dialer_progress", "dialer_cancel", "dialer_note")


@hookimpl
def bling_tables():
    from .tables import TABLES

    return list(TABLES)


@hookimpl
def bling_settings():
    from .config import SETTINGS

    return list(SETTINGS)
