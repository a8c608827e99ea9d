"""The bling command: routes, check, jobs list/show/replay, plugins."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bling.cli.main import main
from bling.errors import ConfigError
from support import load_form, post_twilio


@pytest.fixture
def run(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_routes_prints_the_table_without_credentials(monkeypatch):
    for name in ("TWILIO_AUTH_TOKEN", "HELPSCOUT_API_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 0
    assert "/bling/twilio_sms" in result.output and "inbound_sms → opt_out" in result.output
    assert "/bling/helpscout_webhook" in result.output and "no_content" in result.output
    (voicemail,) = [line for line in result.output.splitlines() if " /bling/twilio_voice/voicemail " in line]
    assert voicemail.split()[0] == "twilio-voice-voicemail" and "voice_voicemail" in voicemail  # its name, its own step


def test_routes_reports_a_bad_routes_file(monkeypatch, tmp_path):
    (tmp_path / "routes.toml").write_text('[[route]]\npath = "/x"\nverify = "nope"\nschema = "twilio_sms"\nchain = ["inbound_sms"]\n')
    monkeypatch.setenv("BLING_ROUTES", str(tmp_path / "routes.toml"))
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code != 0
    assert "routes.toml: route /x: key 'verify'" in result.output


def test_check_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("BLING_MAILBOXES", raising=False)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "MISSING  TWILIO_AUTH_TOKEN" in result.output and "BLING_MAILBOXES is not set" in result.output


def test_check_passes_with_a_complete_environment(run):
    result = run("check")
    assert "Bling is ready to serve." in result.output
    assert "routes.toml: 2 routes" in result.output or "routes.toml:" in result.output


def test_check_explains_why_serving_needs_the_public_url(run, monkeypatch):
    monkeypatch.delenv("BLING_PUBLIC_URL")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1 and "Bling is ready" not in result.output
    assert "BLING_PUBLIC_URL is not set" in result.output and "Host header" in result.output


def test_check_and_serve_refuse_a_bad_connection_deadline(run, monkeypatch):
    monkeypatch.setenv("BLING_CONNECTION_SECONDS", "soon")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    for command in (["check"], ["serve", "--no-worker", "--bind", "127.0.0.1:5997"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1 and "BLING_CONNECTION_SECONDS: 'soon' is not a number of seconds" in result.output


def test_serve_refuses_to_start_without_the_public_url(run, monkeypatch):
    """Without it, the Host header a caller chose would decide what a Twilio signature covers (issue 13)."""
    from bling.edge.wsgi import application_factory

    monkeypatch.delenv("BLING_PUBLIC_URL")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    result = CliRunner().invoke(main, ["serve", "--no-worker", "--bind", "127.0.0.1:5998"])
    assert result.exit_code == 1 and "BLING_PUBLIC_URL is not set" in result.output
    with pytest.raises(ConfigError, match="BLING_PUBLIC_URL is not set"):
        application_factory()  # what each gunicorn worker builds


def test_serve_refuses_to_start_on_bad_settings(monkeypatch):
    monkeypatch.setenv("BLING_MAILBOXES", "twilio:not-a-number:1")
    for name in ("HELPSCOUT_API_CLIENT_ID", "HELPSCOUT_API_CLIENT_SECRET", "HELPSCOUT_WEBHOOK_SECRET",
                 "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "BLACKHOLE_DOMAIN"):
        monkeypatch.setenv(name, "x")
    result = CliRunner().invoke(main, ["serve", "--no-worker"])
    assert result.exit_code == 1
    assert "configuration error: BLING_MAILBOXES entry 1" in result.output and "Traceback" not in result.output


def test_jobs_list_show_replay(run, client, services):
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    (row,) = services.store.rows()
    claimed = services.store.claim(row["id"], "test", 60)
    services.store.bury(row["id"], "test", "HelpScoutTransient: Help Scout kept failing", claimed["result"])
    listed = run("jobs", "list", "--state", "dead")
    assert f"{row['id']:>7} dead" in listed.output and "Help Scout kept failing" in listed.output
    shown = json.loads(run("jobs", "show", str(row["id"])).output)
    assert shown["payload"]["message_sid"] == "SM11111111111111111111111111111111" and shown["state"] == "dead"
    replayed = run("jobs", "replay", str(row["id"]))
    assert "queued again" in replayed.output
    assert services.store.get(row["id"])["state"] == "pending"
    assert "not a dead letter" in run("jobs", "replay", str(row["id"])).output


def test_plugins_lists_sources_and_hooks(run):
    result = run("plugins")
    assert "inbound_sms" in result.output and "local: " in result.output
    assert "transport_send_sms" in result.output


def test_serve_creates_the_schema_then_its_web_processes_trust_it(run, env, monkeypatch, tmp_path):
    """bling serve builds the services (creating the tables) before gunicorn forks; each web process
    then only registers the tables: no catalog queries, no reflection loaded (bench/README.md, item 7)."""
    import falcon.testing

    import bling.edge.wsgi as wsgi

    served = {}
    monkeypatch.setattr(wsgi, "run_gunicorn", lambda bind, workers, **kw: served.update(kw))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    result = run("serve", "--no-worker", "--bind", "127.0.0.1:5998")
    assert result.exit_code == 0, result.output
    assert served["app_factory"] is wsgi.served_application_factory
    web_app = served["app_factory"]()  # as a forked web process builds it: the tables bling serve made
    resp = post_twilio(falcon.testing.TestClient(web_app), "/bling/twilio_sms", load_form("sms_basic"))
    assert resp.status_code == 200
