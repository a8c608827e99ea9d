"""The dialer's settings (bling_local_plugins.dialer.config): safe defaults, errors naming the variable."""

from __future__ import annotations

import pytest

from bling.errors import ConfigError
from bling.config.settings import load_settings
from dialer_support import SECRET_KEY
from support import make_env


def settings_with(**overrides):
    return load_settings(make_env("sqlite:///bling.db", **overrides))


def test_defaults_leave_the_dialer_off_and_limits_sane():
    settings = settings_with()
    assert settings.secret_key == "" and settings.helpscout_app_secret == ""
    assert settings.dialer_token_seconds == 3600 and settings.dialer_countries == ()
    assert (settings.dialer_calls_per_token, settings.dialer_calls_per_agent_hour) == (3, 10)


def test_values_are_read_and_normalised():
    settings = settings_with(BLING_SECRET_KEY=SECRET_KEY, HELPSCOUT_APP_SECRET="app", BLING_DIALER_COUNTRIES=" us, ca ",
                             BLING_DIALER_TOKEN_SECONDS="900", BLING_DIALER_CALLS_PER_TOKEN="1",
                             BLING_DIALER_CALLS_PER_AGENT_HOUR="4")
    assert settings.dialer_countries == ("US", "CA") and settings.dialer_token_seconds == 900
    assert (settings.dialer_calls_per_token, settings.dialer_calls_per_agent_hour) == (1, 4)
    assert SECRET_KEY not in repr(settings) and "'app'" not in repr(settings)


@pytest.mark.parametrize("variable, value, words", [
    ("BLING_SECRET_KEY", "short", "BLING_SECRET_KEY: too short"),
    ("BLING_DIALER_COUNTRIES", "US,Canada", "BLING_DIALER_COUNTRIES: 'CANADA' is not a two-letter"),
    ("BLING_DIALER_TOKEN_SECONDS", "an hour", "BLING_DIALER_TOKEN_SECONDS: 'an hour' is not a whole number"),
    ("BLING_DIALER_CALLS_PER_TOKEN", "0", "BLING_DIALER_CALLS_PER_TOKEN: 0 is out of range"),
    ("BLING_DIALER_CALLS_PER_AGENT_HOUR", "-1", "BLING_DIALER_CALLS_PER_AGENT_HOUR: -1 is out of range"),
])
def test_bad_values_name_the_variable(variable, value, words):
    with pytest.raises(ConfigError, match=words):
        settings_with(**{variable: value})
