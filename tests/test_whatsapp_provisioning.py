"""`bling provision` and `bling check --live` for WhatsApp senders (plugins/whatsapp/provisioning.py).

The cassettes match on the request body, so a test fails when Bling would
post any webhook but the one it must (exactly ``{"webhook": …}``, JSON),
and a write a test leaves out of its cassette fails the test. The route
table is a fixture (tests/fixtures/whatsapp_provision/routes.toml).
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from bling.cli.main import main
from bling.config.mailboxes import Mailbox
from bling.config.settings import load_settings
from bling.declarations import Item
from bling.services import build_services
from support import FIXTURES, make_env

ROUTES = os.path.join(FIXTURES, "whatsapp_provision", "routes.toml")
BASE = "https://hotline.example.com"
#: Two WhatsApp hotlines. The `whatsapp:` mailbox format is the WhatsApp feature's; until its settings
#: part lands the host reads the entry as transport "whatsapp" with the address as written (E.164 here).
MAILBOXES = "whatsapp:+16175550100:206906, whatsapp:+442071838750:206907"
WANTED = {"callback_url": f"{BASE}/bling/twilio_whatsapp", "callback_method": "POST",
          "status_callback_url": f"{BASE}/bling/twilio_sms_status", "status_callback_method": "POST"}


@pytest.fixture
def env(tmp_path):
    return make_env(f"sqlite:///{tmp_path / 'bling.db'}", BLING_ROUTES=ROUTES, BLING_MAILBOXES=MAILBOXES)


@pytest.fixture
def run(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return lambda *args: CliRunner().invoke(main, list(args))


def _writes(vcr) -> list:
    return [r for r in vcr.played_requests if r.method != "GET"]


@pytest.mark.vcr
def test_apply_points_the_sender_at_bling_and_names_a_missing_one(run, vcr):
    """Planted bugs: a form body, more than the webhook sent (a null profile would clear it), the wrong route."""
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    (write,) = _writes(vcr)
    assert write.uri.endswith("/v2/Channels/Senders/XE0000000000000000000000000000a001")
    assert write.headers["Content-Type"] == "application/json"
    assert json.loads(write.body) == {"webhook": WANTED}
    out = result.output
    assert "WhatsApp sender +16175550100 (mailbox 206906): update (done)" in out
    assert f"~ callback_url: 'https://old.example.org/whatsapp' → '{BASE}/bling/twilio_whatsapp'" in out
    assert "WhatsApp sender +442071838750 (mailbox 206907): waiting for steps by hand" in out
    assert "its WhatsApp senders: whatsapp:+16175550100, whatsapp:+15105550199" in out
    assert "by hand: register +442071838750 as a WhatsApp sender" in out and "Meta" in out
    assert "Still to do by hand: 1 step(s)" in out and "Everything is set." not in out
    assert "Twilio number" not in out  # a WhatsApp hotline is the feature's, not an SMS number to look up


@pytest.mark.vcr
def test_dry_run_shows_the_diff_and_the_console_steps(run, vcr):
    """Planted bug: the dry run writing the webhook; an OFFLINE sender's reason not turned into a step."""
    result = run("provision")
    assert result.exit_code == 0, result.output
    assert vcr.all_played and _writes(vcr) == []
    out = result.output
    assert "Dry run: 2 change(s) not made" in out
    assert f"~ status_callback_url: None → '{BASE}/bling/twilio_sms_status'" in out
    assert "= callback_method: 'POST'" in out
    assert "by hand: the sender is OFFLINE" in out
    assert "by hand: accept Twilio's invitation in Meta Business Manager" in out and "+442071838750" in out


@pytest.mark.vcr
def test_a_sender_already_right_is_not_written(run, vcr):
    """Planted bug: a write although the webhook is right; a pending sender's webhook is still checked."""
    result = run("provision", "--apply")
    assert result.exit_code == 0, result.output
    assert vcr.all_played and _writes(vcr) == []
    assert "WhatsApp sender +16175550100 (mailbox 206906): already right" in result.output
    assert "by hand: verify the number: enter the code WhatsApp sent to +442071838750" in result.output


@pytest.mark.vcr
def test_a_refused_list_is_an_error_per_sender(run, vcr):
    result = run("provision", "--apply")
    assert result.exit_code == 1
    assert vcr.all_played
    assert result.output.count("could not list the WhatsApp senders: Twilio error 20003 (HTTP 401)") == 2
    assert "some items could not be provisioned" in result.output


@pytest.mark.vcr
def test_check_live_reports_the_senders(env, vcr):
    from bling.ops.live_check import FIX, OK, feature_rows

    services = build_services(load_settings(env))
    rows = [(r.status, r.what, r.detail) for r in feature_rows(services)]
    assert (OK, "WhatsApp sender +16175550100 (mailbox 206906)", "set up for Bling") in rows
    problems = [detail for status, what, detail in rows if status == FIX and "+442071838750" in what]
    assert any(d.startswith("by hand: verify the number") for d in problems)
    assert any("callback_url, status_callback_url not as Bling needs" in d for d in problems)


def _provisioning():
    from support import plugin_module

    plugin_module("whatsapp")  # loads the package as Bling does (bling_local_plugins.whatsapp)
    import bling_local_plugins.whatsapp.provisioning as provisioning

    return provisioning


class _NoTwilio:
    account_sid = "AC00000000000000000000000000000000"

    def list_senders(self, channel):
        raise AssertionError("the senders were listed")


def test_without_the_whatsapp_route_the_sender_is_left_alone(env, tmp_path):
    routes = tmp_path / "routes.toml"
    routes.write_text(open(ROUTES).read().split("[[route]]")[0] + "[[route]]" + open(ROUTES).read().split("[[route]]")[2])
    services = build_services(load_settings(dict(env, BLING_ROUTES=str(routes))), twilio=_NoTwilio())
    items = _provisioning().plan_senders(services, services.settings.mailboxes)
    assert [i.action for i in items] == ["skip", "skip"]
    assert "no route named 'twilio-whatsapp'" in items[0].notes[0]
    assert _provisioning().plan_senders(services, [Mailbox("twilio", "+16175550100", 206906)]) == []


def test_desired_webhook_follows_the_routes(env, tmp_path):
    services = build_services(load_settings(env), twilio=_NoTwilio())
    assert _provisioning().desired_webhook(services) == WANTED
    routes = tmp_path / "routes.toml"
    routes.write_text(open(ROUTES).read().replace("/bling/twilio_whatsapp", "/wa/in").split("[[route]]\nname = \"twilio-sms-status\"")[0])
    services = build_services(load_settings(dict(env, BLING_ROUTES=str(routes))), twilio=_NoTwilio())
    assert _provisioning().desired_webhook(services) == {"callback_url": f"{BASE}/wa/in", "callback_method": "POST"}


class _Options:
    whatsapp_template_sid = ""


class _Settings:
    def __init__(self, options):
        self._options = options

    def options(self, mailbox):
        return self._options


class _Services:
    class twilio:
        account_sid = "AC00000000000000000000000000000000"

    def __init__(self, options):
        self.settings = _Settings(options)


def test_a_mailbox_without_a_template_is_told_how_to_get_one():
    """The option is the WhatsApp feature's (``bling_mailbox_options``); without it declared, nothing is said."""
    provisioning = _provisioning()
    mailbox = Mailbox("whatsapp", "+16175550100", 206906)
    online = [{"sid": "XE1", "sender_id": "whatsapp:+16175550100", "status": "ONLINE", "webhook": WANTED}]
    item = provisioning.plan_sender(_Services(_Options()), mailbox, online, WANTED)
    assert item.action == "none" and item.console == []
    assert any("no whatsapp_template_sid" in note and "{{1}}" in note for note in item.notes)
    configured = type("Configured", (), {"whatsapp_template_sid": "HX" + "a" * 32})()
    assert provisioning.plan_sender(_Services(configured), mailbox, online, WANTED).notes == []
    assert provisioning.plan_sender(_Services(object()), mailbox, online, WANTED).notes == []


@pytest.mark.parametrize("status, step", [
    ("ONLINE:UPDATING", None),
    ("CREATING", "Twilio is still creating the sender"),
    ("TWILIO_REVIEW", "Twilio is reviewing the sender"),
    ("DRAFT", "the sender is a draft"),
    ("SOMETHING_NEW", "the sender's status is SOMETHING_NEW"),
])
def test_each_sender_status_says_what_is_left(status, step):
    steps = _provisioning()._status_steps({"status": status, "offline_reasons": None}, "+16175550100")
    assert steps == [] if step is None else steps[0].startswith(step)


def test_a_feature_item_in_the_live_check():
    from bling.declarations import Change
    from bling.ops.live_check import FIX, OK, WARN, _feature_rows

    right = Item("whatsapp-sender", "WhatsApp sender +1", changes=[Change("callback_url", "x", "x")])
    assert [(r.status, r.detail) for r in _feature_rows(right)] == [(OK, "set up for Bling")]
    wrong = Item("whatsapp-sender", "WhatsApp sender +1", action="update", notes=["hm"],
                 changes=[Change("callback_url", "y", "x")], console=["register it"])
    assert [(r.status, r.detail) for r in _feature_rows(wrong)] == [
        (WARN, "hm"), (FIX, "by hand: register it"), (FIX, "callback_url not as Bling needs; run `bling provision --apply`")]
    failed = Item("whatsapp-sender", "WhatsApp sender +1", action="error", error="boom")
    assert [(r.status, r.detail) for r in _feature_rows(failed)] == [(FIX, "boom")]
