"""daily_tally, installed as a package: its table, option, setting, periodic task and command reach Bling."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bling.config.settings import load_settings
from bling.errors import ConfigError
from bling.jobs.periodic import declared_tasks
from bling.jobs.worker import drain
from bling_daily_tally.counting import counts, local_day, prune
from bling_daily_tally.tables import TEXTS

SID = "SM" + "1" * 32


def test_it_is_an_installed_feature(services):
    assert services.plugins["daily_tally"].source == "package: bling-daily-tally 0.1.0"
    assert "bling_daily_tally_texts" in services.store.tables  # bling_tables: created by the host's store


def test_a_text_is_counted_once_however_often_it_arrives(services, text):
    text(SID)
    text(SID)  # Twilio retries a webhook: the inbox takes it once
    text("SM" + "2" * 32)
    assert drain(services) == {"done": 2}
    today = local_day(time.time(), "America/New_York")  # the [defaults] timezone, the host's option
    assert counts(services.store, today) == [{"day": today, "mailbox_id": 206906, "texts": 2}]


def test_a_mailbox_can_opt_out_of_the_tally(services, text):
    text(SID, to="+16175550199")  # mailbox 206907 has tally = false (bling_mailbox_options)
    assert drain(services) == {"done": 1}
    assert services.store.all(sa.select(TEXTS)) == []


def test_keep_days_is_a_checked_setting(env):
    assert load_settings(env).tally_keep_days == 90
    assert load_settings(dict(env, BLING_TALLY_KEEP_DAYS="7")).tally_keep_days == 7
    with pytest.raises(ConfigError, match="BLING_TALLY_KEEP_DAYS: 0 is out of range"):
        load_settings(dict(env, BLING_TALLY_KEEP_DAYS="0"))


def test_old_rows_are_pruned_by_a_periodic_task(services):
    tasks = {task.name: task for task in declared_tasks(services.plugin_manager)}
    assert tasks["daily-tally-prune"].run is prune and tasks["daily-tally-prune"].every == 3600.0
    for sid, day in (("SMold", "2001-01-01"), ("SMnew", "2999-01-01")):
        services.store.write(sa.insert(TEXTS).values(message_sid=sid, mailbox_id=206906, day=day, counted_at=0.0))
    assert prune(services)["dropped"] == 1
    assert [row["message_sid"] for row in services.store.all(sa.select(TEXTS))] == ["SMnew"]


def test_bling_tally_prints_the_counts(services, text, env, monkeypatch):
    text(SID)
    drain(services)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from bling.cli.main import main  # bling_commands added `bling tally` from the installed package

    result = CliRunner().invoke(main, ["tally", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "mailbox   206906  twilio:+16175550100" in result.output and "1 texts" in result.output
