"""The fakes (bling_fakes/: Help Scout, Twilio) speak what Bling's real clients expect.

The sandbox, the benchmark and tests share them. If they drifted from the
wire shapes (docs/reference), the burst's numbers would measure the fakes,
not Bling, and the sandbox would show a Bling that works only against
them; these tests pin them with Bling's own clients and one full inbound
text, with the benchmark's options on (the account-wide rate limit and its
accounting).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))  # fifo.py

from bling_fakes.helpscout import HelpScoutFake  # noqa: E402
from bling_fakes.state import FakeState  # noqa: E402
from bling_fakes.twilio import TwilioFake  # noqa: E402

from bling.clients.helpscout import HelpScoutClient, HelpScoutNotFound, HelpScoutRateLimited, customer_query  # noqa: E402
from bling.clients.twilio_api import TwilioGateway  # noqa: E402
from support import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


@pytest.fixture
def helpscout():
    double = HelpScoutFake(limit_per_minute=200)
    url = double.start()
    yield double, HelpScoutClient("id", "secret", base_url=url)
    double.stop()


@pytest.fixture
def twilio():
    double = TwilioFake(FakeState.in_memory(numbers=["+16175550100"]), ACCOUNT_SID, AUTH_TOKEN)
    url = double.start()
    yield double, url
    double.stop()


def test_conversation_lifecycle_with_blings_client(helpscout):
    double, client = helpscout
    email = "6175550123@blackhole.example.org"
    assert client.find_conversations(206906, email) == []  # `_embedded` omitted when empty
    conversation = client.create_conversation(206906, "SMS from (617) 555-0123", customer={"email": email},
                                              threads=[{"type": "customer", "customer": {"email": email}, "text": "one"}])
    thread = client.create_customer_thread(conversation, {"email": email}, "two <b>&</b>")
    note = client.create_note(conversation, "a note")
    found = client.find_conversations(206906, email)
    assert [c["id"] for c in found] == [conversation] and found[0]["threads"] == 3
    threads = client.list_threads(conversation)
    assert [t["id"] for t in threads][:2] == [note, thread]  # newest first
    assert threads[1]["body"] == "two <b>&</b>"  # `text` is HTML (Bling escapes a supporter's text) and reads back as `body`
    customer = client.get_customer(found[0]["primaryCustomer"]["id"])
    assert customer["_embedded"]["emails"][0]["value"] == email
    with pytest.raises(HelpScoutNotFound):
        client.create_customer_thread(999999, {"email": email}, "lost")
    assert double.tokens_issued == 1


def test_rate_limit_charges_writes_double_and_answers_429(helpscout):
    double, client = helpscout
    double.limiter.limit = 5
    client.find_conversations(206906, "a@b.c")  # 1 unit
    cid = double.seed_conversation(206906, "a@b.c", "+16175550123", "old", 0)
    client.create_customer_thread(cid, {"email": "a@b.c"}, "x")  # 2 units → 3 used
    client.create_customer_thread(cid, {"email": "a@b.c"}, "y")  # 2 units → 5 used
    with pytest.raises(HelpScoutRateLimited) as caught:
        client.find_conversations(206906, "a@b.c")
    assert 0 < caught.value.retry_after <= 60
    statuses = [h.status for h in double.hits if h.path != "/v2/oauth2/token"]
    assert statuses == [200, 201, 201, 429]
    assert sum(h.units for h in double.hits) == 5  # the 429 is not charged


def test_twilio_send_and_find_with_blings_gateway(twilio):
    double, url = twilio
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, base_url=url)
    sid = gateway.send_sms(from_="+16175550100", to="+16175550123", body="Thanks!")
    assert sid.startswith("SM") and double.sent()[0].body == "Thanks!"
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    assert gateway.find_sent_message("+16175550100", "+16175550123", "Thanks!", since) == sid
    assert gateway.find_sent_message("+16175550100", "+16175550199", "Thanks!", since) is None


def test_a_text_reaches_the_double_once_with_one_auto_reply(tmp_path, helpscout, twilio):
    """One inbound text through Bling's real chain: search, create, auto-reply."""
    import falcon.testing

    from bling.edge.app import create_app
    from bling.services import build_services
    from bling.config.settings import load_settings
    from bling.jobs.worker import drain
    from support import BLACKHOLE, HOTLINE, MAILBOX_ID, PUBLIC_URL, WEBHOOK_SECRET, load_form, post_twilio

    hs_double, _ = helpscout
    tw_double, tw_url = twilio
    hs_url = hs_double.url
    settings = load_settings({
        "HELPSCOUT_API_CLIENT_ID": "id", "HELPSCOUT_API_CLIENT_SECRET": "secret",
        "HELPSCOUT_WEBHOOK_SECRET": WEBHOOK_SECRET, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "BLACKHOLE_DOMAIN": BLACKHOLE, "BLING_MAILBOXES": f"twilio:{HOTLINE}:{MAILBOX_ID}", "BLING_PUBLIC_URL": PUBLIC_URL,
        "BLING_STORE_URL": f"sqlite:///{tmp_path / 'bling.db'}", "BLING_HELPSCOUT_API_URL": hs_url,
        "BLING_TWILIO_API_URL": tw_url})
    services = build_services(settings, entry_points=False)
    client = falcon.testing.TestClient(create_app(services))
    assert post_twilio(client, "/bling/twilio_sms", load_form("sms_basic")).status_code == 200
    assert drain(services) == {"done": 1}
    threads = [t for t in hs_double.all_threads()]
    assert [t.text for t in threads] == ["Hi, I need help with my ballot"]
    assert [m.to for m in tw_double.sent()] == ["+16175550123"]
    assert [h.units for h in hs_double.hits if h.units] == [1, 2]  # one customer search (phone OR blackhole address), create
    services.store.close()


def test_customer_search_by_phone_finds_the_stored_customer(helpscout):
    double, client = helpscout
    double.seed_conversation(206906, "6175550123@blackhole.example.org", "+16175550123", "old", 0)
    assert client.search_customers(customer_query(["+16175550199"])) == []  # `_embedded` omitted when empty
    (found,) = client.search_customers(customer_query(["+16175550123", "6175550123"]))
    assert found["_embedded"]["emails"][0]["value"] == "6175550123@blackhole.example.org"
    assert found["_embedded"]["phones"][0]["value"] == "+16175550123"
    assert [h.supporters for h in double.hits if h.units] == [("+16175550199",), ("+16175550123", "6175550123")]


def test_customer_search_joins_phone_and_email_terms_with_or(helpscout):
    """A batched search finds a customer by e-mail alone (no phone stored) as well as by phone."""
    double, client = helpscout
    double.seed_conversation(206906, "6175550123@blackhole.example.org", "+16175550123", "old", 0)
    double.seed_conversation(206906, "jane@example.org", None, "old", 0)  # a customer with no phone
    query = customer_query(["+16175550199", "6175550123"], ["nobody@example.org", "jane@example.org"])
    found = client.search_customers(query)
    assert sorted(c["_embedded"]["emails"][0]["value"] for c in found) == [
        "6175550123@blackhole.example.org", "jane@example.org"]
    jane = next(c for c in found if c["_embedded"]["emails"][0]["value"] == "jane@example.org")
    assert "phones" not in jane["_embedded"]  # omitted when empty
    assert client.search_customers(customer_query(["+16175550199"], ["nobody@example.org"])) == []
    assert double.hits[-1].supporters == ("+16175550199", "nobody@example.org")


def test_a_created_conversation_creates_its_customer_for_later_searches(helpscout):
    double, client = helpscout
    email = "6175550123@blackhole.example.org"
    assert client.search_customers(customer_query([], [email])) == []
    client.create_conversation(206906, "SMS from (617) 555-0123", customer={"email": email, "phone": "+16175550123"},
                               threads=[{"type": "customer", "customer": {"email": email}, "text": "one"}])
    (by_email,) = client.search_customers(customer_query([], [email]))
    (by_phone,) = client.search_customers(customer_query(["6175550123"]))
    assert by_email["id"] == by_phone["id"]
    assert by_email["_embedded"]["phones"][0]["value"] == "+16175550123"


def test_strict_fifo_yardstick_waits_for_the_next_window_in_turn():
    from fifo import strict_fifo_done

    items = [("a", 0.0, 3), ("b", 1.0, 3), ("c", 2.0, 2), ("d", 70.0, 1)]
    done = strict_fifo_done(items, budget=6, start=0.0)
    # a and b fill the first window; c waits for the second (t=60) although it would fit later; d comes after c
    assert done == {"a": 0.0, "b": 1.0, "c": 60.0, "d": 70.0}


# -- WhatsApp: the Senders API and the 24-hour rule, as Twilio enforces them ---------------------------------

WA_HOTLINE, WA_SUPPORTER = "whatsapp:+16175550100", "whatsapp:+4915112345678"


class _Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def whatsapp():
    state = FakeState.in_memory(numbers=["+16175550100"])
    state.add_senders([WA_HOTLINE])
    clock = _Clock()
    double = TwilioFake(state, ACCOUNT_SID, AUTH_TOKEN, clock=clock)
    url = double.start()
    yield double, url, clock
    double.stop()


def _send(url, **form):
    import requests

    return requests.post(f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=form,
                         auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)


def test_whatsapp_senders_through_blings_gateway(whatsapp):
    """The sandbox's `bling provision` runs Bling's own Senders API calls against the fake."""
    double, url, _clock = whatsapp
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, base_url=url)
    (sender,) = gateway.list_senders("whatsapp")
    assert sender["sender_id"] == WA_HOTLINE and sender["status"] == "ONLINE" and sender["sid"].startswith("XE")
    assert sender["webhook"]["callback_url"] is None
    hook = {"callback_url": "https://bling.example/bling/twilio_whatsapp", "callback_method": "POST"}
    assert gateway.update_sender_webhook(sender["sid"], hook)["webhook"]["callback_url"] == hook["callback_url"]
    assert double.state.sender(sid=sender["sid"])["webhook"] == hook  # the fallback and the rest untouched
    assert gateway.list_senders("rcs") == []


def test_whatsapp_free_form_needs_the_supporters_last_message_within_24_hours(whatsapp):
    """Planted bugs: the window counted from Bling's own messages; a 63016 refused synchronously (Twilio accepts, then fails)."""
    double, url, clock = whatsapp
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, base_url=url)
    cold = gateway.send_sms(from_=WA_HOTLINE, to=WA_SUPPORTER, body="Hello?")  # 201: accepted, then failed
    double.state.add_message("inbound", WA_SUPPORTER, WA_HOTLINE, "Hi, I need help", "received", created_at=clock.now)
    clock.now += 23 * 3600
    warm = gateway.send_sms(from_=WA_HOTLINE, to=WA_SUPPORTER, body="We can help.")
    clock.now += 2 * 3600  # 25 h after the supporter wrote; Bling's own message 2 h ago does not count
    late = gateway.send_sms(from_=WA_HOTLINE, to=WA_SUPPORTER, body="Still there?")
    rows = {m["sid"]: m for m in double.state.list_messages()}
    assert [rows[sid]["status"] for sid in (cold, warm, late)] == ["failed", "queued", "failed"]
    listed = _send_list(url)
    assert listed[late]["error_code"] == 63016 and "outside the allowed window" in listed[late]["error_message"]
    assert listed[warm]["error_code"] is None and listed[warm]["to"] == WA_SUPPORTER


def _send_list(url):
    import requests

    page = requests.get(f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", auth=(ACCOUNT_SID, AUTH_TOKEN),
                        timeout=10).json()
    return {m["sid"]: m for m in page["messages"]}


def test_a_whatsapp_template_goes_outside_the_window(whatsapp):
    double, url, _clock = whatsapp
    sent = _send(url, From=WA_HOTLINE, To=WA_SUPPORTER, ContentSid="HX" + "a" * 32,
                 ContentVariables='{"1": "Your agent replied"}')
    assert sent.status_code == 201 and sent.json()["status"] == "queued"
    (row,) = double.state.list_messages()
    assert row["status"] == "queued" and row["body"] == f"[template HX{'a' * 32}] Your agent replied"
    empty = _send(url, From=WA_HOTLINE, To=WA_SUPPORTER, ContentSid="HX" + "a" * 32, ContentVariables='{"1": ""}')
    assert empty.status_code == 400 and empty.json()["code"] == 21656  # an empty variable is refused


@pytest.mark.parametrize("form, code", [
    ({"From": "whatsapp:+16175550199", "To": WA_SUPPORTER, "Body": "x"}, 63007),  # not a sender of the account
    ({"From": WA_HOTLINE, "To": "+4915112345678", "Body": "x"}, 21910),  # WhatsApp to an SMS address
    ({"From": WA_HOTLINE, "To": WA_SUPPORTER, "ContentSid": "HX1"}, 21655),
])
def test_a_whatsapp_send_twilio_refuses(whatsapp, form, code):
    _double, url, _clock = whatsapp
    answer = _send(url, **form)
    assert answer.status_code == 400 and answer.json()["code"] == code
