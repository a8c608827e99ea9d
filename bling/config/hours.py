"""Business hours per mailbox, e.g. ``["mon-fri 09:00-17:00", "sat 10:00-14:00"]``.

Times are wall-clock times in the mailbox's ``timezone`` (an IANA name such
as ``America/New_York``), so daylight-saving changes need no care from the
operator. A range may cross midnight (``fri 22:00-02:00``). No hours at all
means always open. Used by calls (ring or straight to voicemail) and texts
(the after-hours reply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_RULE = re.compile(r"^\s*(?P<days>[a-z]{3}(?:\s*-\s*[a-z]{3})?(?:\s*,\s*[a-z]{3}(?:\s*-\s*[a-z]{3})?)*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    """Open from ``start`` to ``end`` (wall clock) on ``day`` (0 = Monday)."""

    day: int
    start: time
    end: time  # end <= start means the window runs past midnight


@dataclass(frozen=True)
class BusinessHours:
    """When a mailbox is staffed; ``is_open(at)`` answers for any instant."""

    windows: tuple[Window, ...]
    zone: ZoneInfo

    @property
    def always_open(self) -> bool:
        return not self.windows

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` (aware, any zone) falls inside a window."""
        if self.always_open:
            return True
        local = at.astimezone(self.zone)
        now, today, yesterday = local.time(), local.weekday(), (local.weekday() - 1) % 7
        for window in self.windows:
            overnight = window.end <= window.start
            if window.day == today and window.start <= now and (overnight or now < window.end):
                return True
            if overnight and window.day == yesterday and now < window.end:
                return True
        return False

    def local_date(self, at: datetime) -> str:
        """The mailbox's calendar date at ``at`` (for once-a-day rules)."""
        return at.astimezone(self.zone).date().isoformat()


def parse_hours(rules: list[str] | tuple[str, ...], zone_name: str = "UTC") -> BusinessHours:
    """Parse rules like ``"mon-fri 09:00-17:00"``; raise ValueError naming the bad one."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_name!r} (use an IANA name such as America/New_York)") from None
    windows: list[Window] = []
    for rule in rules:
        match = _RULE.match(rule.lower())
        if not match:
            raise ValueError(f"{rule!r} is not like 'mon-fri 09:00-17:00'")
        start, end = _clock(match["start"], rule), _clock(match["end"], rule)
        if start == end:
            raise ValueError(f"{rule!r}: start and end are the same time")
        for day in _days(match["days"], rule):
            windows.append(Window(day, start, end))
    return BusinessHours(tuple(windows), zone)


def _clock(text: str, rule: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{rule!r}: {text} is not a time of day")
    return time(hours, minutes)


def _days(text: str, rule: str) -> list[int]:
    days: list[int] = []
    for part in re.split(r"\s*,\s*", text):
        ends = [p.strip() for p in part.split("-")]
        for name in ends:
            if name not in DAYS:
                raise ValueError(f"{rule!r}: {name!r} is not a day (mon … sun)")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        span = (last - first) % 7
        days.extend((first + offset) % 7 for offset in range(span + 1))
    return days


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["BusinessHours", "Window", "parse_hours", "utcnow", "timedelta"]
