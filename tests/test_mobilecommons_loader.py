"""bling mobilecommons load: received texts enter the SMS pipeline once, from a cursor, quietly on back-fills.

Mobile Commons interactions in the cassettes are modelled, not recorded.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from bling_local_plugins.mobilecommons import commands as cli_mobilecommons
from bling.cli.main import main
from bling.errors import ConfigError
from bling.config.mailboxes import Mailbox
from bling_local_plugins.mobilecommons.loader import CURSOR, load, scheduled_load
from bling.config.settings import load_settings
from bling.store.core import Store
from bling_local_plugins.sms.state import is_opted_out, opt_out_row, set_opt_out
from bling.jobs.worker import MAX_ATTEMPTS, drain
from sms_helpers import drain_until_dead
from support import HOTLINE, MAILBOX_ID, make_env

CAMPAIGN = "189358"
MC_MAILBOX = 206908
SUPPORTER = "+16175550123"
SINCE = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)
UNTIL = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
KEY = "mobilecommons:message:1338800201"



@pytest.fixture
def env(store_url):
    return make_env(store_url, BLING_MAILBOXES=f"twilio:{HOTLINE}:{MAILBOX_ID}, mobilecommons:{CAMPAIGN}:{MC_MAILBOX}",
                    MOBILECOMMONS_USERNAME="bling-test", MOBILECOMMONS_PASSWORD="test-mc-password")


@pytest.mark.vcr
def test_load_feeds_the_sms_chain_and_auto_replies_through_mobile_commons(services, vcr):
    summary = load(services, SINCE, UNTIL)
    assert (summary.fetched, summary.loaded, summary.duplicates, summary.ignored) == (3, 1, 0, 1)
    assert dict(summary.unmapped) == {"999999": 1}
    (row,) = services.store.rows()
    assert row["key"] == KEY and row["route"] == "/bling/mobilecommons_messages"
    assert (row["state"], row["lane"]) == ("pending", "helpscout")  # queued, in the SMS route's lane
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # search, create in mailbox 206908, auto-reply via send_message
    assert services.store.conversation_for(MC_MAILBOX, SUPPORTER)["conversation_id"] == 7101
    assert json.loads(services.store.get(row["id"])["result"])["auto_reply_sid"] == "7400000201"
    assert services.store.cursor(CURSOR) == UNTIL.isoformat()


@pytest.mark.vcr
def test_rerun_skips_duplicates_and_goes_on_from_the_cursor(services, clock, vcr):
    assert load(services, SINCE, UNTIL).loaded == 1
    again = load(services, SINCE, UNTIL)
    assert (again.loaded, again.duplicates, sum(again.unmapped.values())) == (0, 1, 1)
    clock.advance(1800)  # 12:30; the cassette asks for 11:50 (cursor less overlap) to 12:30
    later = load(services)
    assert (later.loaded, later.duplicates) == (1, 1)
    assert services.store.cursor(CURSOR) == "2026-11-25T12:30:00+00:00"
    old = load(services, datetime(2026, 11, 24, tzinfo=timezone.utc), datetime(2026, 11, 24, 1, tzinfo=timezone.utc))
    assert old.fetched == 0
    assert services.store.cursor(CURSOR) == "2026-11-25T12:30:00+00:00"  # a back-fill never moves it back
    assert [r["key"] for r in services.store.rows()] == ["mobilecommons:message:1338800205", KEY]
    assert vcr.all_played


@pytest.mark.vcr
def test_backfill_never_auto_replies(services, vcr):
    load(services, SINCE, UNTIL, auto_reply=False)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert not [r for r in vcr.played_requests if r.path.endswith("/send_message")]
    (row,) = services.store.rows()
    result = json.loads(row["result"])
    assert result["first_contact"] is True and "auto_reply_sid" not in result
    assert result["auto_reply_skipped"].startswith("back-fill")


@pytest.mark.parametrize("method", ["POST", "GET", "PUT"])
def test_the_route_refuses_every_http_request(client, services, method):
    """The route takes no HTTP request (methods = []): 405 with an empty Allow, nothing recorded."""
    resp = client.simulate_request(method, "/bling/mobilecommons_messages",
                                   json={"message_id": "1", "campaign_id": CAMPAIGN, "from_": SUPPORTER, "body": "forged"})
    assert resp.status_code == 405 and "Traceback" not in resp.text
    if method != "PUT":  # Falcon answers methods with no responder itself
        assert resp.headers["Allow"] == ""  # RFC 9110: an empty Allow, the resource allows no method
    assert services.store.rows() == []


@pytest.mark.vcr
def test_first_scheduled_run_reads_a_short_window(services, vcr):
    summary = scheduled_load(services)
    assert summary["since"] == "2026-11-25T11:45:00+00:00" and summary["until"] == UNTIL.isoformat()
    assert summary["fetched"] == 0 and services.store.cursor(CURSOR) == UNTIL.isoformat()
    assert vcr.all_played


def test_scheduled_run_does_nothing_without_mobile_commons_mailboxes(services):
    services.settings = dataclasses.replace(services.settings, mailboxes=[Mailbox("twilio", HOTLINE, MAILBOX_ID)])
    assert scheduled_load(services) is None
    assert services.store.cursor(CURSOR) is None


def test_mobile_commons_mailboxes_need_credentials(store_url):
    with pytest.raises(ConfigError, match="MOBILECOMMONS_USERNAME is not set") as caught:
        load_settings(make_env(store_url, BLING_MAILBOXES=f"mobilecommons:{CAMPAIGN}:{MC_MAILBOX}"))
    assert "MOBILECOMMONS_PASSWORD is not set" in str(caught.value)


@pytest.mark.vcr
def test_cli_load_prints_a_summary_and_a_progress_bar(env, store_url, monkeypatch, vcr):
    if not store_url.startswith("sqlite"):
        pytest.skip("the command is exercised once, on SQLite (its store handling is the same on both)")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli_mobilecommons, "PROGRESS_FROM", 1)
    result = CliRunner().invoke(main, ["mobilecommons", "load", "--since", "2026-11-25T11:00:00Z",
                                       "--until", "2026-11-25T12:00:00Z", "--no-auto-reply"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("3 received, 1 loaded, 0 skipped as duplicates, 1 ignored, 0 invalid, "
                                     "1 from unmapped campaigns: 999999 (1)")
    assert "fetched page 1 of 1" in result.stderr and "Loading Mobile Commons texts" in result.stderr
    store = Store(env["BLING_STORE_URL"])
    (row,) = store.rows()
    assert row["key"] == KEY and json.loads(row["payload"])["no_auto_reply"] is True
    store.close()


@pytest.mark.parametrize("args, problem", [(["--every", "5m", "--until", "1h"], "--until"),
                                           (["--every", "10s"], "at most once a minute"),
                                           (["--every", "soon"], "not a duration")])
def test_cli_refuses_bad_schedules(args, problem):
    result = CliRunner().invoke(main, ["mobilecommons", "load", *args])
    assert result.exit_code == 2 and problem in result.output


# -- the SMS features on Mobile Commons texts (customer_match, opt_out, after_hours in the chain) --------


@pytest.mark.vcr
def test_stop_to_a_campaign_opts_the_supporter_out_and_nothing_is_texted(services, vcr):
    load(services, SINCE, UNTIL)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # customer search, the text, the opt-out note naming the campaign
    assert is_opted_out(services.store, f"mobilecommons:{CAMPAIGN}", SUPPORTER)
    assert opt_out_row(services.store, f"mobilecommons:{CAMPAIGN}", SUPPORTER)["changed_at"] == \
        datetime(2026, 11, 25, 11, 5, tzinfo=timezone.utc).timestamp()  # when they sent it, per Mobile Commons
    result = json.loads(services.store.rows()[0]["result"])
    assert result["opt_out"] == "stop" and "opted out" in result["auto_reply_error"]  # refused before sending


@pytest.mark.vcr
def test_a_backfilled_stop_older_than_a_recorded_start_changes_nothing(services, vcr):
    """The supporter texted START at 12:00; a back-fill then brings their STOP of 11:05."""
    set_opt_out(services.store, f"mobilecommons:{CAMPAIGN}", SUPPORTER, False, "START")
    load(services, SINCE, UNTIL, auto_reply=False)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the text is posted; no note
    assert not is_opted_out(services.store, f"mobilecommons:{CAMPAIGN}", SUPPORTER)
    result = json.loads(services.store.rows()[0]["result"])
    assert "opt_out" not in result and result["opt_out_skipped"].startswith("sent before")


@pytest.mark.vcr(allow_playback_repeats=True)
def test_a_backfill_that_never_reaches_help_scout_texts_nobody(services, clock, vcr):
    """Planted bug: a back-fill sends the failure reply (an unmatched request inside the worker job)."""
    load(services, SINCE, UNTIL, auto_reply=False)
    assert drain_until_dead(services, clock) == {"retry": MAX_ATTEMPTS - 1, "dead": 1}
    # the cassette holds no send_message: a failure reply would match nothing and fail the test
