"""The dialer's settings, read with the others by :func:`bling.settings.load_settings`.

Kept here so the feature's checks live beside it; each error names the
variable at fault. Nothing here has a guessable default: without
``BLING_SECRET_KEY`` the dialer is off, without ``HELPSCOUT_APP_SECRET``
the sidebar app refuses every request.
"""

from __future__ import annotations

import re
from typing import Callable

from ..errors import ConfigError

#: Shortest BLING_SECRET_KEY accepted: anything shorter could be guessed offline.
MIN_SECRET_KEY_LENGTH = 32


def dialer_settings(opt: Callable[[str], str]) -> dict:
    """Return the Settings fields of the dialer; raise ConfigError naming the variable."""
    secret_key = opt("BLING_SECRET_KEY")
    if secret_key and len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"BLING_SECRET_KEY: too short ({len(secret_key)} characters; use at least "
                          f"{MIN_SECRET_KEY_LENGTH} random ones, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    countries = tuple(c.strip().upper() for c in opt("BLING_DIALER_COUNTRIES").split(",") if c.strip())
    for country in countries:
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise ConfigError(f"BLING_DIALER_COUNTRIES: {country!r} is not a two-letter ISO country code (e.g. US, CA, GB)")
    return {
        "helpscout_app_secret": opt("HELPSCOUT_APP_SECRET"),
        "secret_key": secret_key,
        "dialer_token_seconds": _positive("BLING_DIALER_TOKEN_SECONDS", opt, maximum=86400),
        "dialer_countries": countries,
        "dialer_calls_per_token": _positive("BLING_DIALER_CALLS_PER_TOKEN", opt, maximum=100),
        "dialer_calls_per_agent_hour": _positive("BLING_DIALER_CALLS_PER_AGENT_HOUR", opt, maximum=1000),
    }


def _positive(name: str, opt: Callable[[str], str], maximum: int) -> int:
    try:
        value = int(opt(name))
    except ValueError:
        raise ConfigError(f"{name}: {opt(name)!r} is not a whole number") from None
    if not 1 <= value <= maximum:
        raise ConfigError(f"{name}: {value} is out of range (1 to {maximum})")
    return value
