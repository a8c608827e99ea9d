"""BLING_MAILBOXES: which hotline (transport + address) feeds which mailbox.

Format: comma-separated ``<transport>:<address>:<Help Scout mailbox id>``,
e.g. ``twilio:+16175550100:206906, twilio:(617) 555-0101:206907,
mobilecommons:12345:206908``. Spaces and number formats are tolerated.
"""

from __future__ import annotations

from dataclasses import dataclass

from bling.errors import ConfigError
from bling.phones import to_e164

#: Transports whose address is a phone number, normalised to E.164.
PHONE_TRANSPORTS = {"twilio"}


@dataclass(frozen=True)
class Mailbox:
    """One hotline: a Help Scout mailbox and the address that feeds it."""

    transport: str
    address: str
    mailbox_id: int

    @property
    def number(self) -> str | None:
        """The hotline phone number, for phone transports."""
        return self.address if self.transport in PHONE_TRANSPORTS else None


def parse_mailboxes(value: str, variable: str = "BLING_MAILBOXES") -> list[Mailbox]:
    """Parse the BLING_MAILBOXES value; raise ConfigError naming the entry."""
    mailboxes: list[Mailbox] = []
    for position, entry in enumerate(value.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        mailboxes.append(_parse_entry(entry, position, variable))
    if not mailboxes:
        raise ConfigError(f"{variable}: no mailboxes configured (expected e.g. 'twilio:+16175550100:206906')")
    _refuse_duplicates(mailboxes, variable)
    return mailboxes


def _parse_entry(entry: str, position: int, variable: str) -> Mailbox:
    where = f"{variable} entry {position} ({entry!r})"
    transport, sep, rest = entry.partition(":")
    address, sep2, mailbox = rest.rpartition(":")
    if not sep or not sep2 or not address.strip():
        raise ConfigError(f"{where}: expected '<transport>:<number or campaign>:<mailbox id>'")
    transport = transport.strip().lower()
    if not transport.replace("_", "").isalnum():
        raise ConfigError(f"{where}: transport {transport!r} is not a plugin name")
    try:
        mailbox_id = int(mailbox.strip())
    except ValueError:
        raise ConfigError(f"{where}: mailbox id {mailbox.strip()!r} is not a number") from None
    address = address.strip()
    if transport in PHONE_TRANSPORTS:
        number = to_e164(address)
        if number is None:
            raise ConfigError(f"{where}: {address!r} is not a phone number")
        address = number
    return Mailbox(transport, address, mailbox_id)


def _refuse_duplicates(mailboxes: list[Mailbox], variable: str) -> None:
    seen_addresses: set[tuple[str, str]] = set()
    for mailbox in mailboxes:
        key = (mailbox.transport, mailbox.address)
        if key in seen_addresses:
            raise ConfigError(f"{variable}: {mailbox.transport}:{mailbox.address} is listed twice")
        seen_addresses.add(key)
