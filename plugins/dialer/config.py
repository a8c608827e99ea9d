"""The dialer's settings, declared to the host (``bling_settings``) and read with its own.

Kept here so the feature's checks live beside it; each error names the
variable at fault. Nothing here has a guessable default: without
``BLING_SECRET_KEY`` the dialer is off, without ``HELPSCOUT_APP_SECRET``
the sidebar app refuses every request.
"""

from __future__ import annotations

import re
from typing import Callable

from bling.declarations import Setting

#: Shortest BLING_SECRET_KEY accepted: anything shorter could be guessed offline.
MIN_SECRET_KEY_LENGTH = 32


def _secret_key(value: str) -> str:
    if value and len(value) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"too short ({len(value)} characters; use at least {MIN_SECRET_KEY_LENGTH} random ones, "
                         "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return value


def _countries(value: str) -> tuple[str, ...]:
    countries = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    for country in countries:
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise ValueError(f"{country!r} is not a two-letter ISO country code (e.g. US, CA, GB)")
    return countries


def _whole(maximum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if not 1 <= number <= maximum:
            raise ValueError(f"{number} is out of range (1 to {maximum})")
        return number
    return parse


#: The dialer's environment settings (``bling_settings``); ``settings.<field>`` holds each value.
SETTINGS = (
    Setting("HELPSCOUT_APP_SECRET", "helpscout_app_secret", "",
            "secret of the Help Scout sidebar app (Call back); unset: its route refuses every request", secret=True),
    Setting("BLING_SECRET_KEY", "secret_key", "", "signs dialer links (32+ random characters); unset: the dialer is off",
            parse=_secret_key, secret=True),
    Setting("BLING_DIALER_TOKEN_SECONDS", "dialer_token_seconds", "3600", "how long a Call back link works",
            parse=_whole(86400)),
    Setting("BLING_DIALER_COUNTRIES", "dialer_countries", "",
            "ISO codes of countries agents' phones may be in, e.g. US,CA (empty: the hotline's)", parse=_countries),
    Setting("BLING_DIALER_CALLS_PER_TOKEN", "dialer_calls_per_token", "3", "calls one Call back link may place",
            parse=_whole(100)),
    Setting("BLING_DIALER_CALLS_PER_AGENT_HOUR", "dialer_calls_per_agent_hour", "10",
            "calls Bling places to one agent phone per hour", parse=_whole(1000)),
)
