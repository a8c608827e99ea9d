"""plugins/mobilecommons/: what the Mobile Commons feature hands the host — settings, schema, load task, command."""

from __future__ import annotations

import click
import pytest

from bling.config.settings import load_settings
from bling.errors import ConfigError
from feature_support import feature, routes_using
from support import MAILBOX_ID

CAMPAIGN = 169437


def test_its_credentials_are_needed_only_with_its_mailboxes(env):
    _pm, mc = feature("mobilecommons")
    assert [s.name for s in mc.bling_settings()] == ["MOBILECOMMONS_USERNAME", "MOBILECOMMONS_PASSWORD",
                                                     "BLING_MOBILECOMMONS_API_URL"]
    assert load_settings(env).mobilecommons_username == ""  # twilio mailboxes only: not needed
    mailboxes = f"mobilecommons:{CAMPAIGN}:{MAILBOX_ID}"
    with pytest.raises(ConfigError, match="MOBILECOMMONS_PASSWORD is not set"):
        load_settings(dict(env, BLING_MAILBOXES=mailboxes, MOBILECOMMONS_USERNAME="bling"))
    with pytest.raises(ConfigError, match="BLING_MOBILECOMMONS_API_URL: 'ftp://x' is not an http"):
        load_settings(dict(env, BLING_MOBILECOMMONS_API_URL="ftp://x"))
    settings = load_settings(dict(env, BLING_MAILBOXES=mailboxes, MOBILECOMMONS_USERNAME="bling",
                                  MOBILECOMMONS_PASSWORD="pa55word"))
    assert settings.mobilecommons_api_url == "https://secure.mcommons.com/api/"


def test_its_schema_names_its_route_which_takes_no_http_request(services):
    _pm, mc = feature("mobilecommons")
    (chain,) = routes_using(services, *mc.bling_schemas())
    assert chain.route.name == "mobilecommons-messages" and not chain.route.takes_http  # fed by the loader only


def test_the_load_runs_every_five_minutes_and_by_hand():
    _pm, mc = feature("mobilecommons")
    (task,) = mc.bling_periodic_tasks()
    from bling_local_plugins.mobilecommons.loader import scheduled_load

    assert (task.name, task.every, task.run) == ("mobilecommons", 300.0, scheduled_load)
    cli = click.Group("probe")
    mc.bling_commands(cli=cli)
    assert list(cli.commands) == ["mobilecommons"] and "load" in cli.commands["mobilecommons"].commands
