"""What a plugin declares to the host: settings (``bling_settings``), periodic tasks
(``bling_periodic_tasks``), transports (``bling_transports``) and set-up items (``bling_provision``)."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Change:
    """One setting of something outside Bling: what is there, what Bling wants."""

    name: str
    current: Any
    desired: Any
    shown: str | None = None  # how to print the desired value when it is a secret

    @property
    def differs(self) -> bool:
        return _normal(self.current) != _normal(self.desired)


@dataclass
class Item:
    """One thing ``bling provision`` sets up: a Twilio number, the Help Scout webhook, a feature's sender.

    The host plans its own items; a feature hands it more through
    ``bling_provision``, setting ``apply`` (called by ``--apply`` when the
    item is pending; it makes the ``changes`` that differ), ``console``
    (what only the provider's console can do, in plain steps) and
    ``mailbox`` (the hotline it covers, which the host then leaves alone).
    """

    kind: str  # "twilio-number" | "helpscout-webhook" | a feature's kind, e.g. "whatsapp-sender"
    label: str
    action: str = "none"  # none | create | update | recreate | error | skip
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    ref: Any = None  # number SID, webhook id, sender SID
    applied: bool = False
    console: list[str] = field(default_factory=list)
    apply: Callable[[], object] | None = None
    mailbox: Any = None  # the bling.config.mailboxes.Mailbox a feature's item covers

    @property
    def pending(self) -> bool:
        return self.action in ("create", "update", "recreate")


def _normal(value: Any) -> Any:
    """Compare like Twilio and Help Scout report: None and '' alike, lists as sets."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return tuple(sorted(str(v) for v in value))
    return value
