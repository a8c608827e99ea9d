"""The sandbox's view of the fake accounts: its hotlines and the supporters' phones its page shows."""

from __future__ import annotations

import sqlalchemy as sa

from bling_fakes.sandbox.config import HOTLINES, SUPPORTERS, WHATSAPP_HOTLINES
from bling_fakes.state import AGENT, FakeState, messages  # noqa: F401  (AGENT: the replies' author, for the page)


class SandboxState(FakeState):
    """The fake accounts in Bling's store, with the fake hotlines' numbers."""

    def __init__(self, engine: sa.Engine, settings=None):
        super().__init__(engine)
        self.settings = settings

    def seed(self) -> None:
        """Make sure each fake hotline number and WhatsApp sender exists (unconfigured until provisioned)."""
        self.add_numbers([number for number, *_rest in HOTLINES])
        self.add_senders([f"whatsapp:{number}" for number, _mailbox in WHATSAPP_HOTLINES])

    @staticmethod
    def mailboxes() -> dict[int, str]:
        """The fake Help Scout account's mailboxes: id → name."""
        return {mailbox: name for _n, mailbox, name, _r in HOTLINES}

    def mailbox_name(self, mailbox_id: int) -> str | None:
        return self.mailboxes().get(mailbox_id)

    def hotlines(self) -> list[dict]:
        """The SMS hotlines (``channel`` sms, the number's settings) and the WhatsApp ones (the sender's webhook)."""
        found = {n["phone_number"]: n for n in self.all_numbers()}
        names = self.mailboxes()
        senders = {s["sender_id"]: s for s in self.all_senders()}
        sms = [{"number": number, "mailbox_id": mailbox, "name": name, "ring": list(ring), "channel": "sms",
                "config": found.get(number, {}).get("config", {})} for number, mailbox, name, ring in HOTLINES]
        whatsapp = [{"number": f"whatsapp:{number}", "mailbox_id": mailbox, "name": names.get(mailbox, "?"), "ring": [],
                     "channel": "whatsapp", "config": senders.get(f"whatsapp:{number}", {}).get("webhook", {})}
                    for number, mailbox in WHATSAPP_HOTLINES]
        return sms + whatsapp

    def supporters(self) -> list[str]:
        """Phones shown on the page: the defaults and anyone who texted, called or was texted."""
        hotline_numbers = {number for number, *_ in HOTLINES} | {f"whatsapp:{n}" for n, _m in WHATSAPP_HOTLINES}
        seen: list[str] = list(SUPPORTERS)
        with self._connect() as conn:
            for row in conn.execute(sa.select(messages.c.from_, messages.c.to).order_by(messages.c.created_at)):
                for phone in (row.from_, row.to):
                    if phone not in hotline_numbers and phone not in seen:
                        seen.append(phone)
        return seen
