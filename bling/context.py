"""The context a handler receives beside its event (Twilio-Functions style).

It carries settings, the mailbox, API clients, the store, a logger, the
plugin's options, a ``state`` dict that earlier plugins in the chain fill
for later ones (its keys are the contract between plugins: :class:`ChainState`),
and ``effect()``: the exactly-once wrapper for every external write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypedDict

from bling.errors import AmbiguousOutcome
from bling.config.mailboxes import Mailbox

if TYPE_CHECKING:  # types only: the services import the chains, which run plugins given a Context
    import pluggy

    from bling.clients.helpscout import HelpScoutClient
    from bling.clients.twilio_api import TwilioGateway
    from bling.config.mailbox_options import MailboxOptions
    from bling.config.settings import Settings
    from bling.routing.routes import Route
    from bling.services import Services
    from bling.store.core import Store


class Customer(TypedDict):
    """A Help Scout customer matched by phone (``customer_match``)."""

    id: int
    email: str | None


class ChainState(TypedDict, total=False):
    """Every key of ``context.state``: what one plugin of a chain leaves for the later ones.

    The worker saves it with the job (so a retry resumes with it) and as the job's result
    (``bling jobs show``). Each key says who sets it → who reads it. A key not declared here is
    refused by tests/test_chain_state.py for the plugins in this repository; a plugin of another
    package keeps its own keys under its own name (e.g. ``keyword_tags``).
    """

    # -- the supporter and their conversation --------------------------------------------
    supporter: str | None            # E.164 phone of the supporter. inbound_sms, agent_reply, voicemail, transcription,
    #                                  call_log → autoreply, after_hours, opt_out, agent_started
    customer: Customer               # customer_match (a known customer) → clients/conversations.py (post as them)
    new_to_helpscout: bool           # customer_match (no customer has this phone) → clients/conversations.py (create one)
    conversation_id: int             # clients/conversations.py (posted), agent_reply, delivery_status → opt_out,
    #                                  call_log, voicemail, inbound_sms (was it posted?), keyword_tagger (example)
    first_contact: bool              # clients/conversations.py (no earlier conversation in the mailbox) → autoreply, voicemail
    # -- agent replies (helpscout-webhook route) -------------------------------------------
    skipped: str                     # agent_reply: why the reply was not texted (read by people: bling jobs show)
    sms_sids: list[str]              # agent_reply: the texts sent → agent_started (thread a new conversation)
    sms_error: int | str | None      # agent_reply: the transport's error code when texting failed (people)
    channel: str                     # agent_reply: the BLING_MAILBOXES entry the reply went on, e.g. "whatsapp:+1…" (people)
    transport_note: str              # whatsapp_transport (how it sent, e.g. as a template) → agent_reply (adds it to its note)
    now_threads_into: int            # agent_started: the conversation the supporter's texts now go to (people)
    # -- replies Bling sends by itself ------------------------------------------------------
    auto_reply_sid: str              # autoreply, voicemail: the auto-reply sent (people)
    auto_reply_skipped: str          # autoreply: why none was sent (people)
    auto_reply_error: str            # autoreply, voicemail: why sending failed (people)
    after_hours_sid: str             # after_hours: the after-hours reply sent → autoreply (then sends none)
    after_hours_skipped: str         # after_hours: why none was sent (people)
    after_hours_error: str           # after_hours: why sending failed (people)
    opt_out: str                     # opt_out: "stop" or "start", the keyword kind recorded (people)
    opt_out_skipped: str             # opt_out: why a back-filled keyword changed nothing (people)
    # -- delivery status (twilio-sms-status route) -----------------------------------------
    status: str                      # delivery_status: the text's recorded status (people)
    failure_detail: str              # whatsapp_status (when the WhatsApp window closed) → delivery_status (adds it to the note)
    # -- WhatsApp ----------------------------------------------------------------------------
    whatsapp_window_closes_at: float # whatsapp_session: the supporter's 24-hour window now closes then (people)
    # -- calls ---------------------------------------------------------------------------------
    outcome: str                     # call_log: how the call ended, e.g. "answered", "missed" (people)
    answered_by: str | None          # call_log: the agent's phone that answered, None if unknown (people)
    text_back_sid: str               # call_log: the missed-call text sent (people)
    text_back_error: str             # call_log: why it could not be sent (people)
    recording_not_attached: str      # recordings (set; cleared on a later success) → voicemail (says why in the thread)
    posted_without_voicemail: bool   # transcription: posted on its own, its voicemail never came (people)
    # -- the dialer ----------------------------------------------------------------------------
    dialer_call: str                 # dialer_note: the call-back the note is about (people)
    note_id: int                     # dialer_note: the note added (people)


#: Attempts a job gets before it becomes a dead letter (the worker's rule; plugins read ``context.max_attempts``).
MAX_ATTEMPTS = 10


@dataclass
class Context:
    """What a plugin may use; built per event by the edge or the worker."""

    settings: Settings
    route: Route
    services: Services
    mailbox: Mailbox | None = None
    inbox_id: int | None = None
    attempt: int = 0
    max_attempts: int = MAX_ATTEMPTS
    state: ChainState = field(default_factory=ChainState)  # type: ignore[arg-type]
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("bling"))
    request_base: str = ""  # scheme://host of the request being answered (callback URLs without BLING_PUBLIC_URL)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def helpscout(self) -> HelpScoutClient:
        return self.services.helpscout

    @property
    def twilio(self) -> TwilioGateway:
        return self.services.twilio

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        return self.services.plugin_manager

    def options(self, plugin: str) -> dict[str, Any]:
        """Return this route's ``[route.options.<plugin>]`` as the plugin's ``Options`` schema loaded it at start-up."""
        return dict(self.route.options.get(plugin, {})) if self.route else {}

    @property
    def mailbox_options(self) -> MailboxOptions:
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

    def send_sms_once(self, name: str, to: str, body: str, media_urls: list[str] | None = None,
                      mailbox: Mailbox | None = None) -> str:
        """Send an SMS as the effect ``name``: never twice for this event.

        ``mailbox`` is the entry to send from (default: the event's); an agent's
        reply goes on the channel the supporter last wrote on, which may be
        another entry of the same Help Scout mailbox (e.g. ``whatsapp:``).
        """
        sender = mailbox or self.mailbox

        def find(since: float):
            found = self.plugin_manager.hook.transport_find_sms(
                context=self, mailbox=sender, to=to, body=body, since=since)
            return found[0] if found else None

        return self.effect(name, lambda: self.send_sms(to, body, media_urls, mailbox=sender), find)

    def send_sms(self, to: str, body: str, media_urls: list[str] | None = None, mailbox: Mailbox | None = None) -> str:
        """Send an SMS from ``mailbox`` (default: this event's) through its transport plugin."""
        from bling.ops.metrics import record_sms

        sender = mailbox or self.mailbox
        try:
            result = self.plugin_manager.hook.transport_send_sms(
                context=self, mailbox=sender, to=to, body=body, media_urls=media_urls or [])
        except Exception:
            record_sms("failed")
            raise
        if result is not None:
            record_sms("sent")
        if result is None:
            raise LookupError(f"no transport plugin handles {sender.transport!r} mailboxes")
        return result
