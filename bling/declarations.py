"""What a plugin declares to the host: settings (``bling_settings``), periodic tasks
(``bling_periodic_tasks``) and transports (``bling_transports``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    """One environment variable of a plugin.

    ``parse`` turns the raw text (the default when unset) into the value
    ``settings.<field>`` holds, raising ValueError with a plain reason;
    ``required_if(settings)`` says when leaving it empty stops start-up.
    """

    name: str
    field: str
    default: str
    purpose: str
    parse: Callable[[str], Any] = str
    secret: bool = False
    required_if: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class PeriodicTask:
    """Work one worker process (any) does every ``every`` seconds: ``run(services)``."""

    name: str
    every: float
    run: Callable[[Any], object]


#: What a transport's BLING_MAILBOXES address is: a phone number (normalised to E.164) or an id.
ADDRESS_KINDS = ("phone", "id")


@dataclass(frozen=True)
class Transport:
    """A ``<transport>:`` of BLING_MAILBOXES, declared by the plugin that sends and receives on it.

    ``address`` says whether the entry's address is a phone number (``"phone"``:
    normalised to E.164, it is ``mailbox.number``) or another id (``"id"``:
    a campaign); ``channel`` is how agents know it ("SMS", "WhatsApp"), used in
    subjects and notes; ``provider`` is the API behind it ("twilio" for Twilio's
    SMS and WhatsApp: its media URLs and status callbacks), by default the name.
    """

    name: str
    address: str = "phone"
    channel: str = "SMS"
    provider: str = ""

    def __post_init__(self):
        if self.address not in ADDRESS_KINDS:
            raise ValueError(f"transport {self.name!r}: address must be one of {ADDRESS_KINDS}, not {self.address!r}")
        if not self.provider:
            object.__setattr__(self, "provider", self.name)
