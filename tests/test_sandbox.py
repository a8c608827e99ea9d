"""The sandbox: Bling against its built-in Twilio and Help Scout stand-ins, over real HTTP.

The whole loop runs as in ``bling serve --sandbox``: provisioning sets the
fake number and webhook through the real clients, a supporter's text goes
through the signed webhook route, the worker posts it to the fake Help
Scout and texts the auto-reply through the fake Twilio, an agent's reply
comes back through the signed webhook and is texted and noted.
"""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from bling.cli.main import main
from bling.errors import ConfigError
from bling.clients.helpscout import HelpScoutAuthError, HelpScoutClient
from bling.ops.provision import route_table
from bling_fakes.sandbox.config import HOTLINES, REAL_CREDENTIALS, WHATSAPP_HOTLINES
from bling_fakes.sandbox.app import sandbox_settings
from bling.clients.twilio_api import TwilioGateway, TwilioSendError
from sandbox_support import running_sandbox, wait_for

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

HOTLINE, MAILBOX = HOTLINES[0][0], HOTLINES[0][1]
SUPPORTER = "+16175550123"


@pytest.fixture
def sandbox(tmp_path):
    with running_sandbox(tmp_path) as running:
        yield running


def act(sandbox, name, **body):
    response = requests.post(f"{sandbox.url}/sandbox/actions/{name}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def state(sandbox):
    return requests.get(f"{sandbox.url}/sandbox/state", timeout=10).json()


def phone(sandbox, number):
    return next(p for p in state(sandbox)["phones"] if p["number"] == number)


def conversations(sandbox, mailbox=MAILBOX):
    return next(m for m in state(sandbox)["mailboxes"] if m["id"] == mailbox)["conversations"]


@pytest.mark.parametrize("name", ["TWILIO_AUTH_TOKEN", "HELPSCOUT_API_CLIENT_SECRET", "HELPSCOUT_WEBHOOK_SECRET",
                                  "BLING_TWILIO_API_URL"])
def test_sandbox_refuses_to_start_next_to_real_credentials(tmp_path, name):
    assert name in REAL_CREDENTIALS
    with pytest.raises(ConfigError, match=f"refuses to start while real credentials are set: unset {name}"):
        sandbox_settings({"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 's.db'}", name: "x"})


def test_serve_sandbox_refuses_real_credentials_before_starting_anything(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--sandbox", "--bind", "127.0.0.1:5999"],
                                env={"TWILIO_AUTH_TOKEN": "a-real-looking-token", "BLING_SANDBOX": None,
                                     "PROMETHEUS_MULTIPROC_DIR": None,
                                     "BLING_STORE_URL": f"sqlite:///{tmp_path / 's.db'}"})
    assert result.exit_code == 1
    assert "the sandbox refuses to start while real credentials are set: unset TWILIO_AUTH_TOKEN" in result.output


def test_sandbox_refuses_a_store_it_did_not_create(store_url):
    """A real store (Bling's tables, a pending job, no sandbox mark) is left exactly as it was."""
    import sqlalchemy as sa

    from bling.store.core import Store

    real = Store(store_url)
    real.accept("twilio:sms:SM" + "1" * 32, "/bling/twilio_sms", "a|b", {"body": "a real supporter's text"})
    with pytest.raises(ConfigError, match="the sandbox refuses the store .* was not made by the sandbox"):
        sandbox_settings({"BLING_SANDBOX": "1", "BLING_STORE_URL": store_url})
    assert "sandbox_meta" not in sa.inspect(real.engine).get_table_names()  # nothing written
    assert [row["state"] for row in real.rows()] == ["pending"]
    real.close()


def test_a_store_the_sandbox_made_is_used_again(tmp_path):
    env = {"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 'mine.db'}"}
    from bling.store.core import Store

    Store(sandbox_settings(env).store_url).close()  # the sandbox's own store, Bling's tables in it
    assert sandbox_settings(env).sandbox


@pytest.mark.parametrize("name, url", [("BLING_PUBLIC_URL", "https://hotline.ourcampaign.org"),
                                       ("BLING_PUBLIC_URL", "http://hotline.my-org.net:8000"),
                                       ("BLING_SMS_FALLBACK_URL", "https://handler.twilio.com/twiml/EH123")])
def test_sandbox_refuses_a_real_deployments_addresses(tmp_path, name, url):
    with pytest.raises(ConfigError, match=f"the sandbox refuses {name}=.*Unset {name}"):
        sandbox_settings({"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 's.db'}", name: url})
    result = CliRunner().invoke(main, ["serve", "--sandbox", "--bind", "127.0.0.1:5999"],
                                env={name: url, "BLING_SANDBOX": None, "PROMETHEUS_MULTIPROC_DIR": None,
                                     "BLING_STORE_URL": f"sqlite:///{tmp_path / 's.db'}"})
    assert result.exit_code == 1 and f"the sandbox refuses {name}" in result.output


def test_sandbox_credentials_are_made_once_per_store_and_point_at_the_stand_ins(tmp_path):
    env = {"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    first, again = sandbox_settings(env), sandbox_settings(env)
    other = sandbox_settings({**env, "BLING_STORE_URL": f"sqlite:///{tmp_path / 'b.db'}"})
    assert first.sandbox and first.twilio_auth_token == again.twilio_auth_token
    assert first.twilio_auth_token != other.twilio_auth_token
    assert first.twilio_account_sid.startswith("AC") and len(first.twilio_account_sid) == 34
    assert first.helpscout_api_url == "http://127.0.0.1:5000/sandbox/helpscout"
    assert first.twilio_api_url == "http://127.0.0.1:5000/sandbox/twilio"
    assert [(m.transport, m.address) for m in first.mailboxes] == (
        [("twilio", number) for number, *_ in HOTLINES] + [("whatsapp", number) for number, _m in WHATSAPP_HOTLINES])


def test_provisioning_points_the_fake_number_and_webhook_at_bling(sandbox):
    hotline = next(h for h in state(sandbox)["hotlines"] if h["number"] == HOTLINE)
    assert hotline["config"]["sms_url"] == f"{sandbox.url}/bling/twilio_sms#rc=3&rp=ct,rt,5xx"
    (hook,) = state(sandbox)["webhooks"]
    assert hook["url"] == f"{sandbox.url}/bling/helpscout_webhook" and hook["mailboxIds"] == [1001, 1002]
    health = requests.get(f"{sandbox.url}/healthz", timeout=10).json()
    assert health["mode"] == "SANDBOX" and health["status"] == "ok"


def test_a_text_and_an_agent_reply_make_the_whole_loop(sandbox):
    act(sandbox, "text", **{"from": SUPPORTER, "to": HOTLINE, "body": "Where do I vote?"})
    (conversation,) = wait_for(lambda: conversations(sandbox))
    assert conversation["customer"] == SUPPORTER
    assert [t["body"] for t in conversation["threads"]] == ["Where do I vote?"]
    auto_reply = wait_for(lambda: [m for m in phone(sandbox, SUPPORTER)["messages"] if not m["mine"]])
    assert auto_reply[0]["body"] == "We've received your message and will get back to you shortly."

    delivered = act(sandbox, "reply", conversation=conversation["id"], body="At the library.\nBring ID.")
    assert delivered["deliveries"] == [f"webhook 1 → {sandbox.url}/bling/helpscout_webhook: 204"]
    texted = wait_for(lambda: [m["body"] for m in phone(sandbox, SUPPORTER)["messages"] if not m["mine"]][1:])
    assert texted == ["At the library.\nBring ID."]
    note = wait_for(lambda: [t for t in conversations(sandbox)[0]["threads"] if t["type"] == "note"])
    assert note[0]["body"] == "Bling sent this reply as an SMS to (617) 555-0123."


def test_a_voicemail_reaches_help_scout(sandbox):
    if "twilio-voice" not in {r.name for r in route_table(sandbox.settings)}:
        pytest.skip("the voice routes are not in routes.toml")
    result = act(sandbox, "call", **{"from": "+16175550124", "to": HOTLINE, "speech": "Please call me back"})
    assert any("dial" in line for line in result["lines"]) and result["lines"][-1] == "call ended"
    (conversation,) = wait_for(lambda: conversations(sandbox))
    bodies = wait_for(lambda: [t["body"] for t in conversations(sandbox)[0]["threads"] if "transcription" in t["body"]])
    assert "Please call me back" in bodies[0]
    assert conversation["customer"] == "+16175550124"


def test_the_stand_ins_check_credentials_like_the_real_apis(sandbox):
    settings = sandbox.settings
    wrong = HelpScoutClient(settings.helpscout_client_id, "not-the-secret", base_url=settings.helpscout_api_url)
    with pytest.raises(HelpScoutAuthError):
        wrong.token()
    gateway = TwilioGateway(settings.twilio_account_sid, "0" * 32, base_url=settings.twilio_api_url)
    with pytest.raises(TwilioSendError) as refused:
        gateway.send_sms(HOTLINE, SUPPORTER, "hi")
    assert refused.value.code == 20003


def test_a_supporter_who_texted_stop_cannot_be_texted(sandbox):
    from bling_fakes.sandbox.state import SandboxState

    SandboxState(sandbox.services.store.engine, sandbox.settings).add_message("inbound", SUPPORTER, HOTLINE, "STOP", "received")
    with pytest.raises(TwilioSendError) as refused:
        sandbox.services.twilio.send_sms(HOTLINE, SUPPORTER, "Hello again")
    assert refused.value.code == 21610 and refused.value.permanent


def test_a_bad_action_is_explained_not_crashed(sandbox):
    response = requests.post(f"{sandbox.url}/sandbox/actions/text", json={"from": "nope", "to": HOTLINE, "body": "x"}, timeout=10)
    assert response.status_code == 422 and response.json()["error"] == "from: 'nope' is not a phone number"


def test_simulate_with_the_sandbox_flag_signs_with_the_sandbox_credentials(sandbox):
    result = CliRunner().invoke(main, ["simulate", "--url", sandbox.url, "--sandbox", "sms", "--from", "+16175550125",
                                       "Texted from the command line"],
                                env={**sandbox.env, "BLING_SANDBOX": None})
    assert result.exit_code == 0, result.output
    assert "Bling answered 200" in result.output
    (conversation,) = wait_for(lambda: conversations(sandbox))
    assert conversation["threads"][0]["body"] == "Texted from the command line"


def test_a_voicemail_has_its_audio_attached_and_leaves_no_dead_letter(sandbox):
    """The fake Twilio serves the recording under its path prefix and answers GET Calls/{sid}."""
    if "twilio-voice" not in {r.name for r in route_table(sandbox.settings)}:
        pytest.skip("the voice routes are not in routes.toml")
    result = act(sandbox, "call", **{"from": SUPPORTER, "to": HOTLINE, "speech": "Call me"})
    attached = wait_for(lambda: [a for c in conversations(sandbox) for t in c["threads"] for a in t["attachments"]])
    assert attached[0]["type"] == "audio/mpeg" and attached[0]["name"].endswith(".mp3")
    call = sandbox.services.twilio.fetch_call(result["sid"])  # what the call log job asks later
    assert call["status"] == "completed" and call["from"] == SUPPORTER and call["duration"] == 7
    assert state(sandbox)["jobs"]["dead"] == []
    ringing = [c for c in state(sandbox)["agent_phones"][0]["calls"] if c["direction"] == "outbound-dial"]
    assert ringing and ringing[0]["status"] == "no-answer"  # the ring group's call is in the log


def test_texts_bling_sends_are_delivered_with_signed_status_callbacks(sandbox):
    from bling_local_plugins.sms.state import recent_messages

    act(sandbox, "text", **{"from": SUPPORTER, "to": HOTLINE, "body": "Hi"})
    (conversation,) = wait_for(lambda: conversations(sandbox))
    act(sandbox, "reply", conversation=conversation["id"], body="Hello back")
    statuses = wait_for(lambda: [m["status"] for m in phone(sandbox, SUPPORTER)["messages"]
                                 if m["body"] == "Hello back" and m["status"] == "delivered"])
    assert statuses == ["delivered"]
    recorded = wait_for(lambda: [r for r in recent_messages(sandbox.services.store, SUPPORTER, False, 10)
                                 if r["status"] == "delivered"])
    assert recorded  # Bling's /bling/twilio_sms_status route accepted the fake Twilio's signed callbacks


def test_the_page_shows_tags_jobs_and_dead_letters(sandbox):
    act(sandbox, "text", **{"from": SUPPORTER, "to": HOTLINE, "body": "Hi"})
    (conversation,) = wait_for(lambda: conversations(sandbox))
    from bling_fakes.sandbox.state import SandboxState

    SandboxState(sandbox.services.store.engine, sandbox.settings).update_conversation(
        conversation["id"], tags='["voting"]')
    row_id, _new = sandbox.services.store.accept("test:dead", "/bling/twilio_sms", "x", {"body": "x"})
    claimed = sandbox.services.store.claim(row_id, "test", 60)
    sandbox.services.store.bury(row_id, "test", "HelpScoutNotFound: gone", claimed["result"])
    shown = state(sandbox)
    assert shown["mailboxes"][0]["conversations"][0]["tags"] == ["voting"]
    assert [(d["id"], d["error"]) for d in shown["jobs"]["dead"]] == [(row_id, "HelpScoutNotFound: gone")]
    assert shown["jobs"]["counts"]["dead"] == 1
