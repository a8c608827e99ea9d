"""SMS opt-out keywords and the refusal to text a supporter who opted out.

Carriers and Twilio treat a text whose *whole* body is a keyword as an
opt-out (STOP family) or opt-in (START family), case-insensitively;
"Stop please" is an ordinary text. Bling matches the same way, after
Unicode normalisation (full-width letters, compatibility forms) and with
invisible characters and surrounding or repeated spaces ignored, so what
Bling records agrees with what Twilio enforces. Twilio's ``OptOutType``
(sent with Advanced Opt-Out, which also allows custom keywords) wins over
the body.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from bling.errors import TransportError

#: Twilio's default opt-out keywords (the Advanced Opt-Out tutorial adds REVOKE and OPTOUT).
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")

#: Twilio's error for a send to a number that replied STOP.
OPTED_OUT_CODE = 21610


def normalise_keyword(body: str | None) -> str:
    """The body as a keyword candidate: NFKC, invisible characters gone, spaces squashed, upper case."""
    text = unicodedata.normalize("NFKC", body or "")
    text = _INVISIBLE.sub("", text)
    return " ".join(text.split()).upper()


def classify(body: str | None, opt_out_type: str | None = None) -> str | None:
    """Return ``"stop"``, ``"start"``, ``"help"`` or None for an inbound text."""
    kind = (opt_out_type or "").strip().upper()
    if kind in ("STOP", "START", "HELP"):
        return kind.lower()
    keyword = normalise_keyword(body)
    if keyword in STOP_KEYWORDS:
        return "stop"
    if keyword in START_KEYWORDS:
        return "start"
    if keyword in HELP_KEYWORDS:
        return "help"
    return None


def hotline_key(mailbox) -> str:
    """The hotline an opt-out applies to: transport and number (e.g. ``twilio:+16175550100``)."""
    return f"{mailbox.transport}:{mailbox.address}"


class OptedOut(TransportError):
    """Bling refused to text a supporter who opted out of this hotline (never sent)."""

    permanent = True
    code = OPTED_OUT_CODE

    def __init__(self, phone: str, since: float | None):
        when = ""
        if since:
            when = " on " + datetime.fromtimestamp(since, timezone.utc).strftime("%Y-%m-%d")
        self.explanation = (f"the supporter opted out of texts from this hotline{when} (they texted STOP); "
                            "they must text START to receive texts again")
        super().__init__(f"{phone} opted out of this hotline: not sent")
