"""The context a handler receives beside its event (Twilio-Functions style).

It carries settings, the mailbox, API clients, the store, a logger, the
plugin's options, a ``state`` dict that earlier plugins in the chain fill
for later ones, and ``effect()``: the exactly-once wrapper for every
external write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from bling.errors import AmbiguousOutcome
from bling.config.mailboxes import Mailbox


#: Attempts a job gets before it becomes a dead letter (the worker's rule; plugins read ``context.max_attempts``).
MAX_ATTEMPTS = 10


@dataclass
class Context:
    """What a plugin may use; built per event by the edge or the worker."""

    settings: Any
    route: Any
    services: Any
    mailbox: Mailbox | None = None
    inbox_id: int | None = None
    attempt: int = 0
    max_attempts: int = MAX_ATTEMPTS
    state: dict = field(default_factory=dict)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("bling"))
    request_base: str = ""  # scheme://host of the request being answered (callback URLs without BLING_PUBLIC_URL)

    @property
    def store(self):
        return self.services.store

    @property
    def helpscout(self):
        return self.services.helpscout

    @property
    def twilio(self):
        return self.services.twilio

    @property
    def plugin_manager(self):
        return self.services.plugin_manager

    def options(self, plugin: str) -> dict:
        """Return routes.toml ``options.<plugin>`` for this route."""
        return dict(self.route.options.get(plugin, {})) if self.route else {}

    @property
    def mailbox_options(self):
        """Per-mailbox settings from BLING_CONFIG, defaults filled in."""
        return self.settings.options(self.mailbox) if self.mailbox else self.settings.default_options

    def effect(self, name: str, do: Callable[[], Any], find: Callable[[float], Any] | None = None) -> Any:
        """Run the external write ``do`` at most once for this event.

        The attempt is recorded before ``do`` runs and its result after. If
        an earlier attempt's outcome is unknown (timeout, 5xx, a worker
        killed mid-call), ``find(started_at)`` looks for the write before
        doing it again; without ``find`` it is redone.
        """
        store, inbox_id = self.store, self.inbox_id
        if inbox_id is None:  # in-request chains have nothing to deduplicate against
            return do()
        previous = store.effect(inbox_id, name)
        if previous and previous["state"] == "done":
            return previous["result"]
        if previous and find is not None:
            found = find(previous["started_at"])
            if found is not None:
                self.logger.info("effect %s already happened (found %s)", name, found)
                store.effect_done(inbox_id, name, found)
                return found
        store.effect_started(inbox_id, name, state=self.state)
        try:
            result = do()
        except AmbiguousOutcome:
            raise  # leave the attempt recorded: next time we look first
        except Exception:
            store.effect_forget(inbox_id, name)
            raise
        store.effect_done(inbox_id, name, result)
        return result

    def send_sms_once(self, name: str, to: str, body: str, media_urls: list[str] | None = None) -> str:
        """Send an SMS as the effect ``name``: never twice for this event."""

        def find(since: float):
            found = self.plugin_manager.hook.transport_find_sms(
                context=self, mailbox=self.mailbox, to=to, body=body, since=since)
            return found[0] if found else None

        return self.effect(name, lambda: self.send_sms(to, body, media_urls), find)

    def send_sms(self, to: str, body: str, media_urls: list[str] | None = None) -> str:
        """Send an SMS from this mailbox through its transport plugin."""
        from bling.ops.metrics import record_sms

        try:
            result = self.plugin_manager.hook.transport_send_sms(
                context=self, mailbox=self.mailbox, to=to, body=body, media_urls=media_urls or [])
        except Exception:
            record_sms("failed")
            raise
        if result is not None:
            record_sms("sent")
        if result is None:
            raise LookupError(f"no transport plugin handles {self.mailbox.transport!r} mailboxes")
        return result
