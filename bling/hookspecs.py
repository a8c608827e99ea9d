"""Every hook Bling calls, declared once (docs/hooks.md has a section per hook).

Chains: each route of routes.toml gets its own plugin manager holding just
its chain's plugins, registered so that pluggy calls them in the listed
order. Handlers look like Twilio Functions: ``(context, event)``.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("bling")
hookimpl = pluggy.HookimplMarker("bling")


@hookspec
def bling_schemas():
    """Return a dict of payload schema name → marshmallow Schema class.

    Names are what routes.toml's ``schema`` refers to. A schema class also
    says how its payload arrives (``content = "form"`` or ``"json"``) and
    gives ``idempotency_key(event)`` and ``supporter_key(event, settings)``.
    """


@hookspec
def bling_verifiers():
    """Return a dict of verifier name → object with ``verify(req, body, settings)``.

    Names are what routes.toml's ``verify`` refers to; ``verify`` returns
    True for a genuine sender and the object's ``failure_status`` is the
    HTTP status for a forgery.
    """


@hookspec(firstresult=True)
def triage_event(context, event):
    """Return a reason (str) to ignore this event without storing it, or None.

    Runs in the web request before the event is accepted, so it must not do
    I/O. Stops at the first non-None result.
    """


@hookspec
def handle_event(context, event):
    """Do this plugin's part for the event; return an outcome or None.

    Runs in a worker for job routes (retried on RetryLater and transient API
    errors; wrap external writes in ``context.effect``), or in the request
    for ``respond = "chain"`` routes, whose first non-None result is the
    answer.
    """


@hookspec
def handle_failure(context, event, error):
    """Tell someone that this event could not be handled, for good.

    Called once when the job becomes a dead letter; ``error`` says why.
    """


@hookspec(firstresult=True)
def transport_send_sms(context, mailbox, to, body, media_urls):
    """Send one SMS for ``mailbox`` if its transport is yours; return its id.

    Return None when the mailbox uses another transport. Stops at the first
    non-None result.
    """


@hookspec(firstresult=True)
def transport_find_sms(context, mailbox, to, body, since):
    """Return ids of SMS already sent to ``to`` with ``body`` since ``since``.

    Called after an ambiguous send (timeout, 5xx) so a retry does not text
    the supporter twice. Return a list (empty when none) if the mailbox's
    transport is yours, else None. Stops at the first non-None result.
    """


# -- what a feature hands the host (Datasette's register_commands and friends) --


@hookspec
def bling_settings():
    """Return this plugin's environment settings: a list of ``bling.declarations.Setting``.

    Each is read with the host's at start-up (``bling check`` and
    ``bling settings`` list them); its parsed value is
    ``settings.<field>``. A bad value stops start-up naming the variable.
    """


@hookspec
def bling_mailbox_options():
    """Return a marshmallow Schema class of this plugin's per-mailbox options (BLING_CONFIG).

    Every field needs a ``load_default``; the keys join the host's in
    ``[defaults]`` and ``[mailboxes.<id>]``, and a key no plugin declares
    stops start-up naming the file, the table and the key. Handlers read
    them as ``context.mailbox_options.<key>``.
    """


@hookspec
def bling_tables():
    """Return this plugin's tables (a list of SQLAlchemy ``Table``).

    The store creates them beside its own (and adds columns and indexes a
    newer version declares), on SQLite and PostgreSQL alike; the plugin
    reads and writes them through the store's public API (``one``, ``all``,
    ``scalar``, ``write``, ``upsert``, ``transaction``). Name them
    ``bling_<plugin>_…``: a name declared twice stops start-up.
    """


@hookspec
def bling_periodic_tasks():
    """Return a list of ``bling.declarations.PeriodicTask`` this plugin needs run.

    One worker process (any, on any machine) runs each task every
    ``every`` seconds with the process's services.
    """


@hookspec
def bling_transports():
    """Return the BLING_MAILBOXES transports this plugin serves: a list of ``bling.declarations.Transport``.

    Each says whether its address is a phone number or an id and how agents
    call the channel. An entry whose transport no plugin declares stops
    start-up naming the entry; a name declared twice stops it too.
    """


@hookspec
def bling_commands(cli):
    """Add this plugin's commands to the ``bling`` command line (a click group)."""


@hookspec
def bling_provision(services, mailboxes):
    """Return this plugin's set-up items for ``mailboxes``: a list of ``bling.declarations.Item``.

    ``bling provision`` shows them beside the host's, ``--apply`` calls a
    pending item's ``apply()``, ``bling check --live`` checks them; an item's
    ``console`` lists what only the provider's console can do, and its
    ``mailbox`` marks a hotline the host then leaves alone. Only reads here.
    """
