"""WhatsApp's 24-hour customer-service window, per supporter and hotline.

Twilio (support article 360038232293): "A messaging session starts when a
user sends your application a message, and lasts for 24 hours from the most
recently received message." Only the supporter's messages open or extend
it; Bling's own never do. Inside it any message may be sent; outside it
only an approved template (Twilio error 63016 otherwise).

Bling keeps, per hotline number and supporter, when the supporter last
wrote (``whatsapp_session`` records it) and when Twilio last refused a
free-form message as outside the window (63016, at send or in the status
callback: ``refused_at``). The window is open while the last inbound
message is under 24 hours old and Twilio has not refused since it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bling.errors import TransportError

from .tables import sessions

WINDOW_SECONDS = 24 * 3600.0
#: Twilio's "outside the allowed window" error (free-form message outside the session).
OUTSIDE_WINDOW_CODE = 63016


@dataclass(frozen=True)
class Window:
    """The supporter's window on one hotline as Bling knows it."""

    last_inbound_at: float | None
    refused_at: float | None
    now: float

    @property
    def closes_at(self) -> float | None:
        return self.last_inbound_at + WINDOW_SECONDS if self.last_inbound_at is not None else None

    @property
    def open(self) -> bool:
        if self.closes_at is None or self.now >= self.closes_at:
            return False
        return self.refused_at is None or self.refused_at <= self.last_inbound_at


def record_inbound(store, hotline: str, phone: str, at: float) -> float:
    """The supporter wrote at ``at``: the window now runs 24 hours from the latest such message.

    An older message (a retry, a late job) never shortens it. Returns when it closes.
    """
    with store.transaction(f"whatsapp:{hotline}:{phone}") as conn:
        row = conn.execute(sa.select(sessions).where(sessions.c.hotline == hotline, sessions.c.phone == phone)
                           ).mappings().first()
        if row is None:
            conn.execute(sa.insert(sessions).values(hotline=hotline, phone=phone, last_inbound_at=at, refused_at=None))
            latest = at
        else:
            latest = max(at, row["last_inbound_at"] or at)
            conn.execute(sa.update(sessions).where(sessions.c.hotline == hotline, sessions.c.phone == phone)
                         .values(last_inbound_at=latest))
    return latest + WINDOW_SECONDS


def record_refusal(store, hotline: str, phone: str) -> None:
    """Twilio said the window was closed (63016): believe it until the supporter writes again."""
    store.upsert(sessions, dict(hotline=hotline, phone=phone), dict(refused_at=store.clock()),
                 insert_only=dict(last_inbound_at=None))


def window(store, hotline: str, phone: str) -> Window:
    row = store.one(sa.select(sessions).where(sessions.c.hotline == hotline, sessions.c.phone == phone))
    return Window(row["last_inbound_at"] if row else None, row["refused_at"] if row else None, store.clock())


def when(moment: float, zone: str = "UTC") -> str:
    """'Wed 25 Nov 2026, 12:00 UTC' in the mailbox's time zone, for agents."""
    try:
        tz = ZoneInfo(zone)
    except Exception:  # a zone the options check let through but this system lacks
        tz = timezone.utc
    return datetime.fromtimestamp(moment, tz).strftime("%a %d %b %Y, %H:%M %Z")


def describe(state: Window, zone: str = "UTC") -> str:
    """Plain words: when the supporter last wrote on WhatsApp and when their window closed."""
    if state.last_inbound_at is None:
        return "the supporter has not written to this hotline on WhatsApp yet (only they can open the 24-hour window)"
    last, closes = when(state.last_inbound_at, zone), when(state.closes_at, zone)
    if state.now < state.closes_at:  # Twilio refused although Bling counted it open
        return (f"their last WhatsApp message came {last}; Bling counted the window open until {closes}, "
                "but Twilio says it has closed")
    return f"their last WhatsApp message came {last}, so the 24-hour window closed {closes}"


class WindowClosed(TransportError):
    """Bling did not send: the supporter's WhatsApp window is closed and the mailbox has no template."""

    permanent = True
    code = OUTSIDE_WINDOW_CODE

    def __init__(self, state: Window, zone: str = "UTC"):
        self.explanation = (
            "WhatsApp only allows free-form replies within 24 hours of the supporter's last WhatsApp message, and "
            f"{describe(state, zone)}. No WhatsApp template is configured for this mailbox (whatsapp_template_sid "
            "in BLING_CONFIG), so nothing was sent; the supporter must write on WhatsApp again, or reach them "
            "another way")
        super().__init__(f"WhatsApp window closed: {self.explanation}")
