"""The hooks a feature hands the host what it owns through, driven by a throwaway feature package.

The package lives in a copy of plugins/ beside the built-in features, exactly as a third party's
would: settings, per-mailbox options, periodic tasks and commands reach the host without a line of
the host changing.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest
from click.testing import CliRunner

from bling.config.settings import ROOT, load_settings
from bling.errors import ConfigError
from bling.jobs.periodic import declared_tasks
from bling.routing.plugin_loader import load_plugins

PROBE_INIT = '''
"""A probe feature: one setting, one per-mailbox option, one periodic task, one command, two transports, a set-up item."""
import click
from marshmallow import Schema, fields, validate

from bling.declarations import PeriodicTask, Setting, Transport
from bling.hookspecs import hookimpl

PLUGINS = ("probe_step",)
RUNS = []


def _percent(text):
    value = int(text)
    if not 0 <= value <= 100:
        raise ValueError(f"{value} is not a percentage")
    return value


@hookimpl
def bling_settings():
    return [Setting("PROBE_SHARE", "probe_share", "40", "a share, in percent", parse=_percent),
            Setting("PROBE_TOKEN", "probe_token", "", "a token", secret=True,
                    required_if=lambda settings: settings.probe_share > 50)]


class ProbeOptions(Schema):
    probe_greeting = fields.String(load_default="hello", validate=validate.Length(max=20))


@hookimpl
def bling_mailbox_options():
    return ProbeOptions


@hookimpl
def bling_periodic_tasks():
    return [PeriodicTask("probe-sweep", 42.0, lambda services: RUNS.append(services) or "swept")]


APPLIED = []


@hookimpl
def bling_provision(services, mailboxes):
    from bling.declarations import Change, Item

    items = []
    for mailbox in mailboxes:
        if mailbox.transport == "pigeon":  # the probe's own transport (bling_transports below)
            item = Item("probe-sender", f"probe sender {mailbox.address}", action="update", mailbox=mailbox,
                        changes=[Change("url", "old", "new")], console=["press the probe's button"])
            item.apply = lambda address=mailbox.address: APPLIED.append(address)
            items.append(item)
    return items


@click.command("probe")
@click.option("--times", default=1)
def probe(times):
    """Say what the probe knows."""
    click.echo("probe " * times)


@hookimpl
def bling_commands(cli):
    cli.add_command(probe)


@hookimpl
def bling_transports():
    return [Transport("pigeon", address="id", channel="Pigeon post"), Transport("semaphore", channel="Semaphore")]
'''

PROBE_STEP = '''
"""A chain step of the probe feature (listed in PLUGINS)."""
from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    return {"greeting": context.mailbox_options.probe_greeting}
'''


@pytest.fixture
def plugins_dir(tmp_path):
    plugins = tmp_path / "plugins"
    shutil.copytree(ROOT / "plugins", plugins)
    (plugins / "probe").mkdir()
    (plugins / "probe" / "__init__.py").write_text(textwrap.dedent(PROBE_INIT))
    (plugins / "probe" / "probe_step.py").write_text(textwrap.dedent(PROBE_STEP))
    return plugins


def _settings(env, plugins_dir, **extra):
    return load_settings(dict(env, BLING_PLUGINS_DIR=str(plugins_dir), **extra))


def test_a_package_and_the_modules_it_lists_are_plugins(plugins_dir):
    _pm, infos = load_plugins(str(plugins_dir), entry_points=False)
    assert infos["probe"].source == f"local: {plugins_dir / 'probe'}/"
    assert infos["probe_step"].source == f"local: {plugins_dir / 'probe'}/ (probe)"
    assert infos["inbound_sms"].module.__name__ == "bling_local_plugins.sms.inbound_sms"


def test_a_package_listing_a_module_it_lacks_is_named(plugins_dir):
    (plugins_dir / "probe" / "probe_step.py").unlink()
    with pytest.raises(ConfigError, match="plugin 'probe' .*PLUGINS names 'probe_step'"):
        load_plugins(str(plugins_dir), entry_points=False)


def test_hook_bling_settings(env, plugins_dir):
    assert _settings(env, plugins_dir).probe_share == 40  # the default, parsed
    assert _settings(env, plugins_dir, PROBE_SHARE="7").probe_share == 7
    with pytest.raises(ConfigError, match="PROBE_SHARE: 170 is not a percentage"):
        _settings(env, plugins_dir, PROBE_SHARE="170")
    with pytest.raises(ConfigError, match=r"PROBE_TOKEN is not set \(a token\)"):
        _settings(env, plugins_dir, PROBE_SHARE="60")
    settings = _settings(env, plugins_dir, PROBE_SHARE="60", PROBE_TOKEN="t0ken-value-1")
    assert settings.probe_token == "t0ken-value-1"
    from bling.ops.redaction import add_secrets_of, redact

    add_secrets_of(settings)  # a secret a plugin declares never reaches a log line
    assert redact("sent with t0ken-value-1 and a share of 60") == "sent with [redacted] and a share of 60"
    with pytest.raises(AttributeError, match="no 'nonexistent'"):
        _settings(env, plugins_dir).nonexistent


def test_a_setting_declared_twice_stops_start_up(env, plugins_dir):
    init = plugins_dir / "probe" / "__init__.py"
    init.write_text(init.read_text().replace('Setting("PROBE_TOKEN"', 'Setting("BLING_SECRET_KEY"'))
    with pytest.raises(ConfigError, match="BLING_SECRET_KEY: declared twice"):
        _settings(env, plugins_dir)


def test_hook_bling_mailbox_options(env, plugins_dir, tmp_path):
    config = tmp_path / "bling.toml"
    config.write_text('[defaults]\nprobe_greeting = "hi"\nauto_reply = "Thanks"\n'
                      '[mailboxes.206906]\nprobe_greeting = "hey"\n')
    settings = _settings(env, plugins_dir, BLING_CONFIG=str(config))
    assert settings.options(206906).probe_greeting == "hey"
    assert settings.options(206907).probe_greeting == "hi"
    assert settings.options(206906).auto_reply == "Thanks" and settings.options(206906).thread_cap == 90
    config.write_text('[mailboxes.206906]\nprobe_greeting = "far too long a greeting for this"\n')
    with pytest.raises(ConfigError, match=r"bling.toml: mailboxes.206906.probe_greeting: Longer than maximum"):
        _settings(env, plugins_dir, BLING_CONFIG=str(config))
    config.write_text('[mailboxes.206906]\nprobe_greetin = "hi"\n')
    with pytest.raises(ConfigError, match=r"mailboxes.206906.probe_greetin: unknown option 'probe_greetin'"):
        _settings(env, plugins_dir, BLING_CONFIG=str(config))
    # without the probe loaded, its key is a typo like any other
    config.write_text('[defaults]\nprobe_greeting = "hi"\n')
    with pytest.raises(ConfigError, match=r"defaults.probe_greeting: unknown option"):
        load_settings(dict(env, BLING_CONFIG=str(config)))


def test_hook_bling_periodic_tasks(env, plugins_dir):
    pm, _ = load_plugins(str(plugins_dir), entry_points=False)
    tasks = {task.name: task for task in declared_tasks(pm)}
    assert set(tasks) == {"probe-sweep", "reconcile", "mobilecommons"}
    assert tasks["probe-sweep"].every == 42.0 and tasks["probe-sweep"].run("services") == "swept"
    assert tasks["reconcile"].every == 600.0 and tasks["mobilecommons"].every == 300.0


def test_hook_bling_transports(env, plugins_dir):
    """Plugins declare BLING_MAILBOXES' transports: phone addresses are normalised, ids kept; none is built in."""
    mailboxes = "twilio:+16175550100:206906, pigeon:Loft 7:206908, semaphore:(617) 555-0199:206909"
    settings = _settings(env, plugins_dir, BLING_MAILBOXES=mailboxes)
    twilio, pigeon, semaphore = settings.mailboxes
    assert (twilio.number, twilio.channel, twilio.provider) == ("+16175550100", "SMS", "twilio")
    assert (pigeon.address, pigeon.number, pigeon.channel, pigeon.kind) == ("Loft 7", None, "Pigeon post", "id")
    assert (semaphore.number, semaphore.channel) == ("+16175550199", "Semaphore")
    (plugins_dir / "rival.py").write_text("from bling.declarations import Transport\nfrom bling.hookspecs import hookimpl\n"
                                          "@hookimpl\ndef bling_transports():\n    return [Transport('twilio')]\n")
    with pytest.raises(ConfigError, match="transport 'twilio' is declared by two plugins, '(sms|rival)' and '(sms|rival)'"):
        _settings(env, plugins_dir, BLING_MAILBOXES="twilio:+16175550100:206906")
    with pytest.raises(ConfigError, match=r"BLING_MAILBOXES entry 2 \('pigeon:Loft 7:206908'\): no loaded plugin serves "
                                          r"the transport 'pigeon' \(known: mobilecommons, twilio, whatsapp\)"):
        load_settings(dict(env, BLING_MAILBOXES=mailboxes))


def test_hook_bling_commands(plugins_dir, monkeypatch):
    import click

    from bling.cli.base import add_plugin_commands

    monkeypatch.setenv("BLING_PLUGINS_DIR", str(plugins_dir))
    cli = click.Group("bling")
    add_plugin_commands(cli)
    assert {"probe", "sms", "reconcile", "mobilecommons"} <= set(cli.commands)
    result = CliRunner().invoke(cli, ["probe", "--times", "2"])
    assert result.exit_code == 0 and result.output.strip() == "probe probe"


def test_a_broken_plugin_leaves_the_host_commands_alone(tmp_path, monkeypatch):
    import click

    from bling.cli.base import add_plugin_commands

    broken = tmp_path / "plugins"
    broken.mkdir()
    (broken / "broken.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.setenv("BLING_PLUGINS_DIR", str(broken))
    cli = click.Group("bling")
    add_plugin_commands(cli)
    assert cli.commands == {}


class _Twilio:
    account_sid = "AC00000000000000000000000000000000"

    def find_number(self, number):
        return None  # not the account's: an error item, and no write


class _HelpScout:
    def list_webhooks(self):
        return [{"id": 7, "url": "https://hotline.example.com/bling/helpscout_webhook", "state": "enabled",
                 "events": ["convo.agent.reply.created"], "mailboxIds": [206906, 206907], "notification": False}]


def test_hook_bling_provision(env, plugins_dir):
    """A feature's items join the plan, --apply makes them, the live check reports them; its hotline is its own."""
    from bling.ops import live_check, provision
    from bling.services import build_services

    routes = str(ROOT / "tests" / "fixtures" / "provision" / "routes.toml")
    settings = _settings(env, plugins_dir, BLING_ROUTES=routes,
                         BLING_MAILBOXES="twilio:+16175550100:206906, pigeon:alpha:206907")
    services = build_services(settings, twilio=_Twilio(), helpscout=_HelpScout(), entry_points=False)
    plan = provision.make_plan(services)
    assert [item.kind for item in plan.items] == ["twilio-number", "probe-sender", "helpscout-webhook"]
    assert plan.console == ["press the probe's button"]
    provision.apply_plan(services, plan)
    probe = __import__("bling_local_plugins.probe", fromlist=["APPLIED"])
    assert probe.APPLIED == ["alpha"] and plan.items[1].applied
    lines = provision.describe(plan)
    assert "probe sender alpha: update (done)" in lines and "  by hand: press the probe's button" in lines
    assert "  ~ url: 'old' → 'new'" in lines
    rows = [(row.status, row.detail) for row in live_check.feature_rows(services)]
    assert rows == [("FIX", "by hand: press the probe's button"),
                    ("FIX", "url not as Bling needs; run `bling provision --apply`")]


def test_a_failing_bling_provision_is_an_error_item_not_a_crash(env, plugins_dir):
    from bling.ops import provision
    from bling.services import build_services

    init = plugins_dir / "probe" / "__init__.py"
    init.write_text(init.read_text().replace("    items = []\n", "    items = []\n    raise RuntimeError('no probe API')\n"))
    routes = str(ROOT / "tests" / "fixtures" / "provision" / "routes.toml")
    settings = _settings(env, plugins_dir, BLING_ROUTES=routes, BLING_MAILBOXES="pigeon:alpha:206907")
    services = build_services(settings, twilio=_Twilio(), helpscout=_HelpScout(), entry_points=False)
    plan = provision.make_plan(services)
    failed = [item for item in plan.items if item.action == "error"]
    assert [(i.label, i.error) for i in failed] == [("plugin probe", "bling_provision failed: RuntimeError: no probe API")]
    assert plan.failed and plan.items[0].kind == "twilio-number" and plan.items[0].action == "skip"
