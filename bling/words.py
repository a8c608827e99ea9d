"""Numbers and durations in words for people: read aloud to a caller, written in a Help Scout note.

Shared by every feature that talks about calls (the call flow, call-backs),
so it lives in the host rather than in one feature another would import.
"""

from __future__ import annotations

import re

from bling.phones import pretty, to_e164


def spoken_number(phone: str | None) -> str:
    """A number as text-to-speech should read it: digit by digit, grouped.

    ``+16175550123`` → ``6 1 7, 5 5 5, 0 1 2 3``; a hidden number → ``an unknown number``.
    """
    number = to_e164(phone) if phone else None
    if number is None:
        return "an unknown number"
    groups = re.findall(r"\d+", pretty(number))
    return ", ".join(" ".join(group) for group in groups)


def describe_duration(seconds: int) -> str:
    """``45`` → ``45 s``; ``130`` → ``2 min 10 s``; ``3600`` → ``1 h 0 min``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
