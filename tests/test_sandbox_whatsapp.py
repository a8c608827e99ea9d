"""The sandbox's WhatsApp phone: the fake sender, its signed webhooks, status callbacks with `read`, the 24-hour rule.

The fake's part (bling_fakes/sandbox/: the page's WhatsApp phone and hotline, what the phone posts,
how the fake Twilio walks a message out) is tested on its own; the whole loop through Bling needs
the WhatsApp feature's route (`twilio-whatsapp`, plugins/whatsapp/) and skips, naming it, where
routes.toml does not have it.
"""

from __future__ import annotations

import threading

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from twilio.request_validator import RequestValidator

from bling.routing.urls import find_route
from bling_fakes.sandbox import actions, twilio_api
from bling_fakes.sandbox.app import sandbox_settings
from bling_fakes.sandbox.config import SUPPORTERS, WHATSAPP_HOTLINES
from bling_fakes.sandbox.state import SandboxState
from bling_fakes.simulate import Target
from sandbox_support import running_sandbox, wait_for

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

WA_HOTLINE = f"whatsapp:{WHATSAPP_HOTLINES[0][0]}"
WA_MAILBOX = WHATSAPP_HOTLINES[0][1]
WA_SUPPORTER = next(p for p in SUPPORTERS if p.startswith("whatsapp:"))
INBOUND_ROUTE = "twilio-whatsapp"


@pytest.fixture
def settings(tmp_path):
    return sandbox_settings({"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})


@pytest.fixture
def sandbox_state(settings):
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    state = SandboxState(engine, settings)
    state.seed()
    return state


class _Answer:
    def __init__(self, status_code=200, content=b"<Response/>"):
        self.status_code, self.content = status_code, content


class _Session:
    """Stands in for the HTTP session the fake Twilio posts to Bling with: notes each post, answers ``answer``."""

    def __init__(self, answer=None):
        self.posts, self.answer, self.lock = [], answer or _Answer(), threading.Lock()

    def post(self, url, data, headers, timeout):
        from urllib.parse import parse_qsl

        with self.lock:
            self.posts.append((url, parse_qsl(data, keep_blank_values=True), headers))
        return self.answer


@pytest.fixture
def bling_side(monkeypatch, settings):
    """Every webhook and status callback the fake Twilio sends, instead of a running Bling."""
    session = _Session()
    monkeypatch.setattr(Target, "from_settings", classmethod(
        lambda cls, s, url=None: cls(url=s.public_base(), public_url=s.public_base(), account_sid=s.twilio_account_sid,
                                     auth_token=s.twilio_auth_token, webhook_secret="", session=session)))
    monkeypatch.setattr(twilio_api, "DELIVERY_STEP_SECONDS", 0.0)
    return session


def _signed(settings, url, form, headers) -> bool:
    return RequestValidator(settings.twilio_auth_token).validate(url, dict(form), headers["X-Twilio-Signature"])


def test_the_whatsapp_phone_posts_a_signed_whatsapp_webhook_to_the_senders_callback_url(settings, sandbox_state,
                                                                                         bling_side):
    """Planted bugs: the SMS number's SmsUrl used, the whatsapp: prefix dropped, the form not signed."""
    callback = settings.public_base() + "/bling/twilio_whatsapp"
    sender = sandbox_state.sender(sender_id=WA_HOTLINE)
    sandbox_state.update_sender(sender["sid"], {"callback_url": callback, "callback_method": "POST"})
    bling_side.answer = _Answer(200, b"<Response><Message>Gracias, ya vamos.</Message></Response>")
    done = actions.text_hotline(sandbox_state, settings, WA_SUPPORTER, WA_HOTLINE, "Hola, necesito ayuda")
    ((url, form, headers),) = bling_side.posts
    fields = dict(form)
    assert url == callback and _signed(settings, url, form, headers)
    assert (fields["From"], fields["To"]) == (WA_SUPPORTER, WA_HOTLINE)
    assert fields["WaId"] == WA_SUPPORTER.removeprefix("whatsapp:+") and fields["ProfileName"] == actions.PROFILE_NAME
    assert fields["MessageSid"] == done["sid"] and fields["Body"] == "Hola, necesito ayuda"
    log = {(m["direction"], m["from_"], m["to"], m["body"]) for m in sandbox_state.list_messages()}
    assert log == {("inbound", WA_SUPPORTER, WA_HOTLINE, "Hola, necesito ayuda"),
                   ("outbound-reply", WA_HOTLINE, WA_SUPPORTER, "Gracias, ya vamos.")}


def test_an_unprovisioned_sender_says_so(settings, sandbox_state, bling_side):
    done = actions.text_hotline(sandbox_state, settings, WA_SUPPORTER, WA_HOTLINE, "Hola")
    assert bling_side.posts == [] and "has no WhatsApp callback URL: run `bling provision --apply`" in done["note"]
    with pytest.raises(actions.Problem, match="whatsapp:\\+15105550100 is not a sandbox WhatsApp hotline"):
        actions.text_hotline(sandbox_state, settings, WA_SUPPORTER, "whatsapp:+15105550100", "Hola")


def _walk(fake, form):
    sent = fake.create_message(form)
    twilio_api.finish_deliveries()
    return sent


def test_a_whatsapp_message_is_sent_delivered_and_read_with_whatsapps_callback_fields(settings, sandbox_state,
                                                                                     bling_side):
    fake = twilio_api.sandbox_twilio(sandbox_state, settings)
    sandbox_state.add_message("inbound", WA_SUPPORTER, WA_HOTLINE, "Hola", "received")  # opens the window
    status_url = settings.public_base() + "/bling/twilio_sms_status"
    sent = _walk(fake, {"From": WA_HOTLINE, "To": WA_SUPPORTER, "Body": "We can help.", "StatusCallback": status_url})
    assert [dict(form)["MessageStatus"] for _url, form, _h in bling_side.posts] == ["sent", "delivered", "read"]
    url, form, headers = bling_side.posts[-1]
    fields = dict(form)
    assert url == status_url and _signed(settings, url, form, headers)
    assert fields["MessageSid"] == sent["sid"] and (fields["From"], fields["To"]) == (WA_HOTLINE, WA_SUPPORTER)
    assert fields["ChannelPrefix"] == "whatsapp" and fields["ChannelToAddress"] == WA_SUPPORTER.removeprefix("whatsapp:")
    assert fields["ChannelInstallSid"] == sandbox_state.sender(sender_id=WA_HOTLINE)["sid"]
    assert "ErrorCode" not in fields
    (row,) = [m for m in sandbox_state.list_messages() if m["sid"] == sent["sid"]]
    assert row["status"] == "read"


def test_free_form_outside_the_window_fails_with_63016_in_the_senders_status_callback(settings, sandbox_state,
                                                                                     bling_side):
    """No StatusCallback on the send: Twilio reports to the sender's status_callback_url (as provisioned)."""
    fake = twilio_api.sandbox_twilio(sandbox_state, settings)
    status_url = settings.public_base() + "/bling/twilio_sms_status"
    sender = sandbox_state.sender(sender_id=WA_HOTLINE)
    sandbox_state.update_sender(sender["sid"], {"status_callback_url": status_url})
    sent = _walk(fake, {"From": WA_HOTLINE, "To": WA_SUPPORTER, "Body": "Are you still there?"})
    assert sent["status"] == "queued"  # accepted; the failure comes later, as on Twilio
    ((url, form, _headers),) = bling_side.posts
    fields = dict(form)
    assert url == status_url
    assert (fields["MessageStatus"], fields["ErrorCode"], fields["MessageSid"]) == ("failed", "63016", sent["sid"])
    (row,) = [m for m in sandbox_state.list_messages() if m["sid"] == sent["sid"]]
    assert row["status"] == "failed" and "63016" in row["note"]
    template = _walk(fake, {"From": WA_HOTLINE, "To": WA_SUPPORTER, "ContentSid": "HX" + "b" * 32,
                            "ContentVariables": '{"1": "Your agent replied"}'})
    statuses = [dict(f)["MessageStatus"] for _u, f, _h in bling_side.posts if dict(f)["MessageSid"] == template["sid"]]
    assert statuses == ["sent", "delivered", "read"]  # a template may start the conversation


# -- through a running sandbox -------------------------------------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path):
    with running_sandbox(tmp_path) as running:
        yield running


def _state(sandbox):
    return requests.get(f"{sandbox.url}/sandbox/state", timeout=10).json()


def _needs_the_whatsapp_route(sandbox):
    if find_route(sandbox.services, INBOUND_ROUTE) is None:
        pytest.skip(f"routes.toml has no route {INBOUND_ROUTE!r}: the WhatsApp feature (plugins/whatsapp/) is not in")


def test_the_page_offers_a_whatsapp_phone_and_hotline(sandbox):
    shown = _state(sandbox)
    assert WA_SUPPORTER in [p["number"] for p in shown["phones"]]
    hotline = next(h for h in shown["hotlines"] if h["number"] == WA_HOTLINE)
    assert hotline["channel"] == "whatsapp" and hotline["mailbox_id"] == WA_MAILBOX
    assert [m["id"] for m in shown["mailboxes"]] == [1001, 1002]  # the WhatsApp hotline feeds the Boston mailbox
    page = requests.get(f"{sandbox.url}/sandbox", timeout=10).text
    assert "Send on WhatsApp" in page


def test_provisioning_points_the_whatsapp_sender_at_bling(sandbox):
    _needs_the_whatsapp_route(sandbox)
    hotline = next(h for h in _state(sandbox)["hotlines"] if h["number"] == WA_HOTLINE)
    assert hotline["config"]["callback_url"] == f"{sandbox.url}/bling/twilio_whatsapp"
    assert hotline["config"]["status_callback_url"] == f"{sandbox.url}/bling/twilio_sms_status"


def test_a_whatsapp_message_and_an_agent_reply_make_the_whole_loop(sandbox):
    _needs_the_whatsapp_route(sandbox)
    requests.post(f"{sandbox.url}/sandbox/actions/text", timeout=30,
                  json={"from": WA_SUPPORTER, "to": WA_HOTLINE, "body": "Hola, ¿dónde voto?"}).raise_for_status()
    mailbox = lambda: next(m for m in _state(sandbox)["mailboxes"] if m["id"] == WA_MAILBOX)["conversations"]  # noqa: E731
    (conversation,) = wait_for(mailbox)
    assert [t["body"] for t in conversation["threads"] if t["type"] == "customer"] == [
        "Hola, ¿dónde voto?<br><br>(sent on WhatsApp by “Sandbox supporter”)"]  # the thread says its channel
    requests.post(f"{sandbox.url}/sandbox/actions/reply", timeout=30,
                  json={"conversation": conversation["id"], "body": "En la biblioteca."}).raise_for_status()
    phone = lambda: next(p for p in _state(sandbox)["phones"] if p["number"] == WA_SUPPORTER)  # noqa: E731
    read = wait_for(lambda: [m for m in phone()["messages"] if m["body"] == "En la biblioteca." and m["status"] == "read"])
    assert read[0]["other"] == WA_HOTLINE
