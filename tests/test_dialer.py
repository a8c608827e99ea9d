"""plugins/dialer/: what Call back hands the host — its settings, its routes' schemas and verifiers."""

from __future__ import annotations

import pytest

from bling.config.settings import load_settings
from bling.errors import ConfigError
from feature_support import feature, routes_using


def test_its_settings_are_off_by_default_and_checked(env):
    _pm, dialer = feature("dialer")
    names = {setting.name for setting in dialer.bling_settings()}
    assert {"BLING_SECRET_KEY", "HELPSCOUT_APP_SECRET", "BLING_DIALER_COUNTRIES"} <= names
    settings = load_settings({k: v for k, v in env.items() if k != "BLING_SECRET_KEY"})
    assert settings.secret_key == "" and settings.dialer_calls_per_token == 3
    with pytest.raises(ConfigError, match="BLING_SECRET_KEY: too short"):
        load_settings(dict(env, BLING_SECRET_KEY="short"))
    with pytest.raises(ConfigError, match="BLING_DIALER_COUNTRIES: 'USA' is not a two-letter"):
        load_settings(dict(env, BLING_DIALER_COUNTRIES="US,USA"))


def test_its_schemas_and_verifiers_serve_its_routes(services):
    _pm, dialer = feature("dialer")
    for name in dialer.bling_schemas():
        assert routes_using(services, name), f"no route uses {name}"
    verifiers = dialer.bling_verifiers()
    used = {chain.route.verify for chain in services.chains}
    assert set(verifiers) <= used and all(hasattr(v, "verify") for v in verifiers.values())


def test_its_call_log_table_is_created_in_the_store(services):
    _pm, dialer = feature("dialer")
    (table,) = dialer.bling_tables()
    assert table.name == "bling_dialer_calls" and table.name in services.store.tables
