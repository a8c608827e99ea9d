"""bling provision and bling check --live, replayed from cassettes.

The cassettes match on the request body, so a test fails when Bling would
set anything other than the settings the cassette holds (and, with
``all_played``, when it skips one). The route table is a fixed fixture:
desired settings depend on which routes exist.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from bling.ops import provision
from bling.cli.main import main
from bling.config.settings import load_settings
from bling.routing.routes import Route
from support import FIXTURES, make_env

ROUTES = os.path.join(FIXTURES, "provision", "routes.toml")
BASE = "https://hotline.example.com"


def routes(**paths: str) -> list[Route]:
    """Routes by name (``twilio_sms`` → ``twilio-sms``) at the given paths: provision looks routes up by name."""
    return [Route(name=name.replace("_", "-"), path=path, verify="twilio", schema="twilio_sms", chain=("x",))
            for name, path in paths.items()]



@pytest.fixture
def env(tmp_path):
    return make_env(f"sqlite:///{tmp_path / 'bling.db'}", BLING_ROUTES=ROUTES)


@pytest.fixture
def run(env, monkeypatch):
    for name in ("BLING_SMS_FALLBACK_URL", "BLING_VOICE_FALLBACK_URL", "HELPSCOUT_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.vcr
def test_create_points_numbers_and_creates_the_webhook(run, vcr):
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    assert "Twilio number +16175550100 (mailbox 206906): update (done)" in result.output
    assert "Help Scout webhook https://hotline.example.com/bling/helpscout_webhook: create (done)" in result.output
    assert "test-webhook-secret" not in result.output  # the secret is named, never printed


@pytest.mark.vcr
def test_update_fixes_what_differs_and_keeps_the_webhook_id(run, vcr):
    """Planted bug: update_number dropping blank values (``SmsApplicationSid=`` never clears a TwiML app)."""
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    assert "~ sms_application_sid: 'AP00000000000000000000000000000001' → ''" in result.output
    assert "~ mailboxIds: () → [206906, 206907]" in result.output or "~ mailboxIds:" in result.output
    assert "update (done)" in result.output


@pytest.mark.vcr
def test_already_correct_changes_nothing(run, vcr):
    """Planted bug: a write although every setting is already right."""
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert [r.method for r in vcr.played_requests if "oauth2" not in r.uri] == ["GET"] * 3  # read, never write
    assert result.output.count("already right") == 3
    assert "= sms_url: 'https://hotline.example.com/bling/twilio_sms#rc=3&rp=ct,rt,5xx'" in result.output


@pytest.mark.vcr
def test_dry_run_prints_the_diff_and_writes_nothing(run, vcr):
    """Planted bug: the dry run writes the number or the webhook."""
    result = run("provision")
    assert result.exit_code == 0, result.output
    assert [r.method for r in vcr.played_requests] == ["GET", "GET", "POST", "GET"]  # lookups, token, webhooks
    assert "~ sms_url: '' → 'https://hotline.example.com/bling/twilio_sms#rc=3&rp=ct,rt,5xx'" in result.output
    assert "+ mailboxIds: [206906, 206907]" in result.output
    assert "+ secret: (HELPSCOUT_WEBHOOK_SECRET)" in result.output
    assert "Dry run: 2 change(s) not made" in result.output


@pytest.mark.vcr
def test_partial_failure_reports_each_item_and_fails(run, vcr):
    result = CliRunner().invoke(main, ["provision", "--apply"])
    assert result.exit_code == 1
    assert vcr.all_played  # the webhook was still created after the number failed
    assert "! Twilio error 21402 (HTTP 400)" in result.output
    assert "+442071838750 is not a number of Twilio account AC00000000000000000000000000000000" in result.output
    assert "Help Scout webhook https://hotline.example.com/bling/helpscout_webhook: create (done)" in result.output
    assert "some items could not be provisioned" in result.output


@pytest.mark.vcr
def test_disabled_webhook_is_recreated(run, vcr):
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    assert [r.method for r in vcr.played_requests][-2:] == ["DELETE", "POST"]
    assert "recreate (done)" in result.output


@pytest.mark.vcr
def test_only_one_mailbox_with_mailbox_option(run, vcr):
    result = run("provision", "--mailbox", "206907", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played and "+16175550100" not in result.output


def test_unknown_mailbox_option_is_refused(run):
    result = CliRunner().invoke(main, ["provision", "--mailbox", "1"])
    assert result.exit_code == 1
    assert "--mailbox 1: not in BLING_MAILBOXES (configured: 206906, 206907)" in result.output


def test_provision_needs_the_public_url(run, monkeypatch):
    monkeypatch.delenv("BLING_PUBLIC_URL")
    result = CliRunner().invoke(main, ["provision"])
    assert result.exit_code == 1
    assert "BLING_PUBLIC_URL is not set" in result.output and "Traceback" not in result.output


def test_sidebar_app_settings_are_printed_when_the_route_exists(env):
    settings = load_settings(env)
    steps = provision.manual_steps(settings, routes(helpscout_app="/bling/helpscout_app"))
    assert f"  Callback URL:  {BASE}/bling/helpscout_app" in steps
    assert any("HELPSCOUT_APP_SECRET" in line and "NOT SET" in line for line in steps)
    assert provision.manual_steps(settings, []) == []


def test_desired_number_follows_the_routes(env, monkeypatch):
    monkeypatch.delenv("BLING_SMS_FALLBACK_URL", raising=False)
    monkeypatch.delenv("BLING_VOICE_FALLBACK_URL", raising=False)
    settings = load_settings(env)
    only_sms = provision.desired_number(settings, routes(twilio_sms="/bling/twilio_sms"))
    assert only_sms == {"sms_url": f"{BASE}/bling/twilio_sms#rc=3&rp=ct,rt,5xx", "sms_method": "POST",
                        "sms_application_sid": ""}
    voice = provision.desired_number(settings, routes(twilio_voice="/calls/in", twilio_voice_status="/calls/status",
                                                      twilio_call_status="/bling/twilio_call_status",
                                                      twilio_voice_fallback="/bling/twilio_voice_fallback"))
    assert voice["voice_url"] == f"{BASE}/calls/in"  # wherever routes.toml puts the route of that name
    assert voice["voice_fallback_url"] == f"{BASE}/bling/twilio_voice_fallback"
    assert voice["status_callback"] == f"{BASE}/bling/twilio_call_status"  # the first name of CALL_STATUS_ROUTES
    assert "voice_url" not in provision.desired_number(settings, routes(bling_twilio_voice="/bling/twilio_voice"))
    monkeypatch.setenv("BLING_SMS_FALLBACK_URL", "https://handler.twilio.com/twiml/EH1")
    assert provision.desired_number(settings, [])["sms_fallback_url"] == "https://handler.twilio.com/twiml/EH1"


@pytest.mark.vcr
def test_check_live_all_right(run, vcr):
    result = run("check", "--live")
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    assert "ok    Twilio credentials" in result.output and "(Full, active)" in result.output
    assert "ok    Help Scout mailbox 206907" in result.output and "London hotline" in result.output
    assert "ok    Help Scout webhook" in result.output and "206906, 206907" in result.output
    assert "FIX" not in result.output


@pytest.mark.vcr
def test_check_live_says_what_to_fix(run, vcr):
    result = CliRunner().invoke(main, ["check", "--live"])
    assert result.exit_code == 1
    assert vcr.all_played
    lines = result.output.splitlines()
    assert any(line.startswith("FIX") and "Twilio credentials" in line and "20003" in line for line in lines)
    assert any(line.startswith("FIX") and "mailbox 206907" in line and "give the app's user access" in line
               for line in lines)
    assert any(line.startswith("FIX") and "webhook" in line and "disabled" in line for line in lines)
    assert "3 thing(s) to fix" in result.output


def test_webhook_events_follow_the_webhook_routes_chain(env, tmp_path):
    routes = tmp_path / "routes.toml"
    routes.write_text(open(ROUTES).read().replace('chain = ["agent_reply"]', 'chain = ["agent_reply", "agent_started"]'))
    settings = load_settings({**env, "BLING_ROUTES": str(routes)})
    assert provision.webhook_events(settings) == ["convo.agent.reply.created", "convo.created"]
    assert provision.webhook_events(load_settings(env)) == ["convo.agent.reply.created"]


def test_a_mobile_commons_hotline_is_skipped_not_failed():
    from bling.config.mailboxes import Mailbox

    item = provision.plan_number(object(), Mailbox("mobilecommons", "12345", 206908, kind="id"), {"sms_url": "x"})
    assert item.action == "skip" and not item.pending
    assert "set it up in that provider's console" in item.notes[0]
