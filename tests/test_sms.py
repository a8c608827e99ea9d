"""plugins/sms/: what the SMS feature hands the host — its per-mailbox options, the reconcile task, its commands."""

from __future__ import annotations

from click.testing import CliRunner

from bling.cli.main import main
from bling.config.settings import load_settings
from feature_support import feature


def test_its_options_have_defaults_and_take_per_mailbox_values(env, tmp_path):
    _pm, sms = feature("sms")
    schema = sms.bling_mailbox_options()
    assert schema().load({})["auto_reply"].startswith("We've received your message")
    config = tmp_path / "bling.toml"
    config.write_text('[mailboxes.206906]\nauto_reply = "Got it"\nsend_mms = false\n')
    settings = load_settings(dict(env, BLING_CONFIG=str(config)))
    assert settings.options(206906).auto_reply == "Got it" and settings.options(206906).send_mms is False
    assert settings.options(206907).send_mms is None  # the default: MMS where the number can


def test_reconcile_runs_every_ten_minutes():
    _pm, sms = feature("sms")
    (task,) = sms.bling_periodic_tasks()
    from bling_local_plugins.sms.reconcile import reconcile

    assert (task.name, task.every, task.run) == ("reconcile", 600.0, reconcile)


def test_its_commands_join_the_command_line():
    import click

    _pm, sms = feature("sms")
    cli = click.Group("probe")
    sms.bling_commands(cli=cli)
    assert set(cli.commands) == {"sms", "reconcile"}
    assert {"sms", "reconcile"} <= set(main.commands)  # bling's own command line has them
    result = CliRunner().invoke(main, ["sms", "--help"])
    assert result.exit_code == 0 and "status" in result.output and "opt-outs" in result.output


def test_its_tables_are_created_in_the_store(services):
    _pm, sms = feature("sms")
    names = {table.name for table in sms.bling_tables()}
    assert names == {"bling_sms", "bling_opt_outs", "bling_after_hours_replies"}  # the names deployments have
    assert names <= set(services.store.tables)
