"""BLING_MAILBOXES: which hotline (transport + address) feeds which mailbox.

Format: comma-separated ``<transport>:<address>:<Help Scout mailbox id>``,
e.g. ``twilio:+16175550100:206906, twilio:(617) 555-0101:206907,
mobilecommons:12345:206908, whatsapp:+16175550100:206906``. Spaces and
number formats are tolerated.

The host knows no transport by name: plugins declare theirs
(``bling_transports``, a ``bling.declarations.Transport`` each) and say
whether its address is a phone number (normalised to E.164) or an id. An
entry whose transport no loaded plugin declares stops start-up naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bling.declarations import Transport
from bling.errors import ConfigError
from bling.phones import to_e164


@dataclass(frozen=True)
class Mailbox:
    """One hotline: a Help Scout mailbox and the address that feeds it.

    ``kind``, ``channel`` and ``provider`` come from the transport's
    declaration (``bling.declarations.Transport``); the defaults are Twilio SMS's.
    """

    transport: str
    address: str
    mailbox_id: int
    kind: str = "phone"
    channel: str = "SMS"
    provider: str = ""

    def __post_init__(self):
        if not self.provider:
            object.__setattr__(self, "provider", self.transport)

    @property
    def number(self) -> str | None:
        """The hotline phone number, for phone transports."""
        return self.address if self.kind == "phone" else None


def parse_mailboxes(value: str, transports: dict[str, Transport], variable: str = "BLING_MAILBOXES") -> list[Mailbox]:
    """Parse the BLING_MAILBOXES value against the declared ``transports``; raise ConfigError naming the entry."""
    mailboxes: list[Mailbox] = []
    for position, entry in enumerate(value.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        mailboxes.append(_parse_entry(entry, position, variable, transports))
    if not mailboxes:
        raise ConfigError(f"{variable}: no mailboxes configured (expected e.g. 'twilio:+16175550100:206906')")
    _refuse_duplicates(mailboxes, variable)
    return mailboxes


def _parse_entry(entry: str, position: int, variable: str, transports: dict[str, Transport]) -> Mailbox:
    where = f"{variable} entry {position} ({entry!r})"
    transport, sep, rest = entry.partition(":")
    address, sep2, mailbox = rest.rpartition(":")
    if not sep or not sep2 or not address.strip():
        raise ConfigError(f"{where}: expected '<transport>:<number or campaign>:<mailbox id>'")
    transport = transport.strip().lower()
    if not transport.replace("_", "").isalnum():
        raise ConfigError(f"{where}: transport {transport!r} is not a plugin name")
    declared = transports.get(transport)
    if declared is None:
        known = ", ".join(sorted(transports)) or "none"
        raise ConfigError(f"{where}: no loaded plugin serves the transport {transport!r} (known: {known})")
    try:
        mailbox_id = int(mailbox.strip())
    except ValueError:
        raise ConfigError(f"{where}: mailbox id {mailbox.strip()!r} is not a number") from None
    address = address.strip()
    if declared.address == "phone":
        number = to_e164(address)
        if number is None:
            raise ConfigError(f"{where}: {address!r} is not a phone number")
        address = number
    return Mailbox(transport, address, mailbox_id, declared.address, declared.channel, declared.provider)


def declared_transports(plugin_manager) -> dict[str, Transport]:
    """Every loaded plugin's transports (``bling_transports``); a name declared twice stops start-up."""
    found: dict[str, tuple[Transport, str]] = {}
    for impl in plugin_manager.hook.bling_transports.get_hookimpls():
        for transport in impl.function() or ():
            if not isinstance(transport, Transport):
                raise ConfigError(f"plugin {impl.plugin_name!r}: bling_transports returned {transport!r}, "
                                  "not a bling.declarations.Transport")
            if transport.name in found:
                raise ConfigError(f"transport {transport.name!r} is declared by two plugins, "
                                  f"{found[transport.name][1]!r} and {impl.plugin_name!r}")
            found[transport.name] = (transport, impl.plugin_name)
    return {name: transport for name, (transport, _plugin) in found.items()}


def _refuse_duplicates(mailboxes: list[Mailbox], variable: str) -> None:
    seen_addresses: set[tuple[str, str]] = set()
    for mailbox in mailboxes:
        key = (mailbox.transport, mailbox.address)
        if key in seen_addresses:
            raise ConfigError(f"{variable}: {mailbox.transport}:{mailbox.address} is listed twice")
        seen_addresses.add(key)
