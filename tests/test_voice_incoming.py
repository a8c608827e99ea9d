"""Plugin ``voice_incoming`` (route ``twilio-voice``): a call comes in, answered with TwiML.

No outside service is called while a call is answered: every answer comes
from BLING_CONFIG and the clock, so these tests need no cassettes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

import falcon.testing
import pytest

from bling.edge.app import create_app
from bling_local_plugins.calls.call_twiml import NOT_IN_SERVICE
from bling.services import build_services
from bling.config.settings import load_settings
from bling.store.core import Store
from call_support import AGENT, AGENT_2, CALLER_QUERY, RING_CONFIG, call, twiml, url, verbs
from support import HOTLINE, load_form, make_env, post_twilio, twilio_signature

VOICE = "/bling/twilio_voice"


@pytest.mark.bling_config(RING_CONFIG)
def test_incoming_call_rings_the_whole_group_with_screening(client):
    root = twiml(call(client, VOICE))
    assert verbs(root) == ["Dial"]
    dial = root.find("Dial")
    assert dial.attrib == {"action": url("/bling/twilio_voice/dial_done"), "method": "POST", "callerId": HOTLINE,
                           "timeout": "20", "answerOnBridge": "true"}
    numbers = dial.findall("Number")
    assert [n.text for n in numbers] == [AGENT, AGENT_2]
    for number in numbers:
        assert number.attrib == {"url": url("/bling/twilio_voice/screen", CALLER_QUERY), "method": "POST"}


@pytest.mark.bling_config(f'[mailboxes.206906]\nring = ["{AGENT}"]\nscreen = false\nring_timeout = 35\n'
                          'greeting = "Thanks for calling the Boston hotline."\n')
def test_greeting_then_plain_ring_without_screening(client):
    root = twiml(call(client, VOICE))
    assert verbs(root) == ["Say", "Dial"]
    assert root.find("Say").text == "Thanks for calling the Boston hotline."
    dial = root.find("Dial")
    assert dial.get("timeout") == "35"
    (number,) = dial.findall("Number")
    assert number.text == AGENT and number.attrib == {}


@pytest.mark.bling_config(f'[mailboxes.206906]\nring = ["{AGENT}"]\ngreeting = "https://cdn.example.org/hello.mp3"\n')
def test_audio_greeting_is_played(client):
    root = twiml(call(client, VOICE))
    assert verbs(root) == ["Play", "Dial"]
    assert root.find("Play").text == "https://cdn.example.org/hello.mp3"


def test_no_ring_numbers_go_straight_to_voicemail(client):
    root = twiml(call(client, VOICE))
    assert verbs(root) == ["Redirect"]
    redirect = root.find("Redirect")
    assert redirect.text == url("/bling/twilio_voice/voicemail") and redirect.get("method") == "POST"


def _hours(zone: str, rules: str) -> str:
    return (RING_CONFIG + f'timezone = "{zone}"\nhours = [{rules}]\n'
            'after_hours_greeting = "We are closed. Please leave a message."\n')


@pytest.mark.parametrize("env,at,is_open", [
    (_hours("America/New_York", '"mon-fri 09:00-17:00"'), "2026-11-25T14:30:00", True),   # Wed 09:30 EST
    (_hours("America/New_York", '"mon-fri 09:00-17:00"'), "2026-11-25T22:30:00", False),  # Wed 17:30 EST
    (_hours("America/New_York", '"mon-fri 09:00-17:00"'), "2026-07-01T13:30:00", True),   # Wed 09:30 EDT
    (_hours("America/New_York", '"mon-fri 09:00-17:00"'), "2026-07-01T12:30:00", False),  # Wed 08:30 EDT
    (_hours("Europe/London", '"mon-sat 10:00-18:00"'), "2026-11-28T10:30:00", True),      # Sat 10:30 GMT
    (_hours("Europe/London", '"mon-sat 10:00-18:00"'), "2026-11-29T12:00:00", False),     # Sunday
    (_hours("Europe/London", '"mon-sat 10:00-18:00"'), "2026-03-30T09:30:00", True),      # Mon 10:30 BST
    (_hours("Europe/London", '"mon-sat 10:00-18:00"'), "2026-03-30T08:30:00", False),     # Mon 09:30 BST
    (_hours("Asia/Tokyo", '"mon-fri 09:00-18:00"'), "2026-11-25T00:30:00", True),         # Wed 09:30 JST
    (_hours("Asia/Tokyo", '"mon-fri 09:00-18:00"'), "2026-11-25T09:30:00", False),        # Wed 18:30 JST
    (_hours("Australia/Sydney", '"fri 22:00-02:00"'), "2026-11-27T14:30:00", True),       # Sat 01:30 AEDT
    (_hours("Australia/Sydney", '"fri 22:00-02:00"'), "2026-11-27T15:30:00", False),      # Sat 02:30 AEDT
], indirect=["env"])
def test_business_hours_at_fixed_times(client, clock, at, is_open):
    clock.now = datetime.fromisoformat(at).replace(tzinfo=timezone.utc).timestamp()
    root = twiml(call(client, VOICE))
    if is_open:
        assert verbs(root) == ["Dial"]
    else:
        assert verbs(root) == ["Say", "Redirect"]
        assert root.find("Say").text == "We are closed. Please leave a message."
        assert root.find("Redirect").text == url("/bling/twilio_voice/voicemail")


def test_unknown_hotline_number_hears_an_apology(client, services):
    root = twiml(call(client, VOICE, To="+16175559999", Called="+16175559999"))
    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Say").text == NOT_IN_SERVICE
    assert services.store.rows() == []


def test_forged_call_is_refused_before_anything(client, services):
    pairs = load_form("voice_incoming")
    resp = post_twilio(client, VOICE, pairs, signature=twilio_signature(url(VOICE), pairs, token="f" * 32))
    assert resp.status_code == 403
    assert services.store.rows() == []


def test_callback_urls_follow_the_request_url_without_public_url(store_url, clock):
    env = make_env(store_url, BLING_PUBLIC_URL="")
    settings = load_settings(env)
    services = build_services(settings, store=Store(settings.store_url, clock=clock),
                              entry_points=False)
    client = falcon.testing.TestClient(create_app(services))
    pairs = load_form("voice_incoming")
    own = "http://falconframework.org" + VOICE
    resp = client.simulate_post(VOICE, body=urlencode(pairs),
                                content_type=falcon.MEDIA_URLENCODED,
                                headers={"X-Twilio-Signature": twilio_signature(own, pairs)})
    root = twiml(resp)
    assert root.find("Redirect").text == "http://falconframework.org/bling/twilio_voice/voicemail"
    services.store.close()
