"""bling simulate against a live Bling (real HTTP on a loopback port).

The requests must pass Bling's own signature checks (signed for
BLING_PUBLIC_URL, sent to --url), and ``simulate call`` must walk TwiML the
way Twilio does: Dial action with the outcome, the Number whisper, Record
with its action, recording and transcription callbacks, status callback.
"""

from __future__ import annotations

import os
import sys

import pytest
from click.testing import CliRunner

from bling.edge.app import create_app
from bling.cli.main import main
from bling.services import build_services
from bling.config.settings import load_settings
from bling.store.core import Store
from live_server import LiveServer
from support import FIXTURES, HOTLINE, SUPPORTER, make_env

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


@pytest.fixture
def bling(env, settings, clock):
    """Bling with the project's routes, served on a free port."""
    services = build_services(settings, store=Store(settings.store_url, clock=clock),
                              entry_points=False)
    with LiveServer(create_app(services)) as server:
        yield services, server.url
    services.store.close()


def run_cli(env, monkeypatch, *args):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_simulate_sms_is_accepted_by_the_signature_check(bling, env, monkeypatch):
    services, url = bling
    result = run_cli(env, monkeypatch, "simulate", "--no-wait", "--url", url, "sms", "--from", SUPPORTER, "Where do I vote?")
    assert result.exit_code == 0, result.output
    assert "Bling answered 200" in result.output
    (row,) = services.store.rows()
    payload = services.store.get(row["id"])["payload"]
    assert row["route"] == "/bling/twilio_sms" and '"Where do I vote?"' in payload
    assert f'"{HOTLINE}"' in payload


def test_simulate_sms_with_the_wrong_token_is_refused(bling, env, monkeypatch):
    services, url = bling
    env = {**env, "TWILIO_AUTH_TOKEN": "not-the-token"}
    result = CliRunner().invoke(main, ["simulate", "--no-wait", "--url", url, "sms", "--from", SUPPORTER, "hi"],
                                env=env)
    assert result.exit_code == 1 and "Bling answered 403" in result.output
    assert services.store.rows() == []


def test_simulate_agent_reply_is_accepted(bling, env, monkeypatch):
    services, url = bling
    result = run_cli(env, monkeypatch, "simulate", "--no-wait", "--url", url, "agent-reply", "--conversation", "5001",
                     "--to", SUPPORTER, "See you at the polls!")
    assert result.exit_code == 0, result.output
    assert "Bling answered 204" in result.output
    (row,) = services.store.rows()
    assert row["route"] == "/bling/helpscout_webhook" and row["key"].startswith("helpscout:thread:")
    payload = services.store.get(row["id"])["payload"]
    assert '"mailbox_id": 206906' in payload and "See you at the polls!" in payload


@pytest.fixture
def voice_bling(tmp_path, clock):
    """Bling serving the fake call flow of tests/fixtures/simulate."""
    env = make_env(f"sqlite:///{tmp_path / 'bling.db'}", BLING_ROUTES=os.path.join(FIXTURES, "simulate", "routes.toml"),
                   BLING_PLUGINS_DIR=os.path.join(FIXTURES, "simulate", "plugins"))
    settings = load_settings(env)
    services = build_services(settings, store=Store(settings.store_url, clock=clock),
                              entry_points=False)
    seen = sys.modules["bling_local_plugins.fake_voice"].SEEN
    seen.clear()
    with LiveServer(create_app(services)) as server:
        yield env, server.url, seen
    services.store.close()


def test_simulate_call_unanswered_leaves_a_voicemail(voice_bling, monkeypatch):
    env, url, seen = voice_bling
    result = run_cli(env, monkeypatch, "simulate", "--no-wait", "--url", url, "call", "--from", SUPPORTER,
                     "--say", "Please call me back about my ballot.")
    assert result.exit_code == 0, result.output
    paths = [path for path, _ in seen]
    assert paths == ["/bling/twilio_voice", "/t/dial", "/t/recorded", "/bling/twilio_call_status",
                     "/t/recording", "/t/transcribed"]
    fields = dict(seen)
    assert fields["/t/dial"]["DialCallStatus"] == "no-answer" and fields["/t/dial"]["DialBridged"] == "false"
    assert fields["/t/recorded"]["Digits"] == "hangup" and fields["/t/recorded"]["RecordingSid"].startswith("RE")
    assert fields["/t/recording"]["RecordingStatus"] == "completed"
    assert fields["/t/transcribed"]["TranscriptionText"] == "Please call me back about my ballot."
    assert fields["/bling/twilio_call_status"]["CallStatus"] == "completed"
    assert len({f["CallSid"] for p, f in seen}) == 1  # one call throughout
    assert "say: Please leave a message." in result.output


def test_simulate_call_answered_runs_the_whisper_and_bridges(voice_bling, monkeypatch):
    env, url, seen = voice_bling
    result = run_cli(env, monkeypatch, "simulate", "--no-wait", "--url", url, "call", "--from", SUPPORTER, "--answer", "answered")
    assert result.exit_code == 0, result.output
    paths = [path for path, _ in seen]
    assert paths == ["/bling/twilio_voice", "/t/screen", "/t/accept", "/t/dial", "/bling/twilio_call_status"]
    fields = dict(seen)
    assert fields["/t/screen"]["Direction"] == "outbound-dial" and fields["/t/screen"]["To"] == "+16175550111"
    assert fields["/t/accept"]["Digits"] == "1"
    assert fields["/t/dial"]["DialCallStatus"] == "completed" and fields["/t/dial"]["DialBridged"] == "true"
    assert fields["/t/screen"]["ParentCallSid"] == fields["/t/dial"]["CallSid"]
