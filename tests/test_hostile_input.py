"""Odd but signed input: a 4xx naming the field, or a logged no-op; never a 500, a 503 or a crashing job.

The cases the issue-13 probe found, on SQLite and PostgreSQL. (tests/test_fuzz.py
looks for more of them with generated payloads.)
"""

from __future__ import annotations

import json

import pytest

from bling.jobs.worker import drain
from dialer_support import APP_SECRET, app_payload, dialer_env, open_page, page_post, token_for, twilio_leg
from support import PUBLIC_URL, load_form, load_json, post_helpscout, post_twilio

DEEP = ("[" * 100_000 + "]" * 100_000).encode()  # json.loads raises RecursionError, not ValueError


@pytest.fixture
def env(store_url):
    return dialer_env(store_url)


def app(client, payload):
    return post_helpscout(client, "/bling/helpscout_app", payload, event=None, secret=APP_SECRET)


def test_deeply_nested_json_is_a_400_on_every_json_route(client, services):
    assert post_helpscout(client, "/bling/helpscout_webhook", DEEP).status_code == 400
    assert app(client, DEEP).status_code == 400
    token = token_for(services)
    _, csrf = open_page(client, token)
    for path in ("/bling/dialer/call", "/bling/dialer/cancel"):
        resp = client.simulate_post(path, body=DEEP, content_type="application/json", headers={
            "X-Bling-Token": token, "X-Bling-CSRF": csrf, "Sec-Fetch-Site": "same-origin", "Origin": PUBLIC_URL})
        assert resp.status_code == 400 and "nested too deeply" in resp.json["description"], path
    nested = {"phone": "1"}
    for _ in range(40):
        nested = {"x": nested}
    resp = page_post(client, "/bling/dialer/call", token, csrf, nested)
    assert resp.status_code == 422 and "nested deeper than 32 levels" in resp.json["description"]


@pytest.mark.parametrize("changes, field", [
    ({"ticket": {"id": "abc"}}, "ticket.id"),
    ({"ticket": {"id": 1e308 * 10}}, "ticket.id"),  # 1e999 in the JSON: infinity
    ({"ticket": {"id": 10**400}}, "ticket.id"),
    ({"user": {"id": "x1", "fname": "Jane"}}, "user.id"),
    ({"user": {"id": 77, "fname": {"first": "Jane"}}}, "user.fname"),
])
def test_bad_sidebar_app_fields_are_a_422_naming_the_field(client, changes, field):
    body = json.dumps(app_payload(**changes)).replace("Infinity", "1e999").encode()
    resp = app(client, body)
    assert resp.status_code == 422 and resp.json["description"].startswith(field), resp.text


@pytest.mark.parametrize("customer", [
    {"id": 555, "phones": "6175550123"}, {"id": 555, "emails": "6175550123@blackhole.example.org"},
    {"id": 555, "phones": [7], "emails": [{"value": 5}], "_embedded": {"phones": "x"}}, {"id": 555, "phone": {"a": 1}},
])
def test_odd_customer_shapes_in_the_sidebar_app_are_answered_not_crashed(client, customer):
    resp = app(client, app_payload(customer=customer))
    assert resp.status_code == 200 and "html" in resp.json


@pytest.mark.vcr
def test_an_agent_reply_whose_customer_has_odd_phones_is_still_texted(client, services, vcr):
    """A string where Help Scout sends a list is passed over; the blackhole e-mail still names the supporter."""
    payload = load_json("agent_reply_v2")
    payload["primaryCustomer"].update(phones="6175550123", emails="nobody", _embedded={"phones": {"value": 1}})
    assert post_helpscout(client, "/bling/helpscout_webhook", payload).status_code == 204
    assert drain(services) == {"done": 1}  # before: a TypeError on every retry
    assert vcr.all_played


LONG_SID = "RE" + "5" * 248


@pytest.mark.parametrize("path, fixture, fields, query, field", [
    ("/bling/twilio_voicemail", "studio_voicemail", {"RecordingSid": LONG_SID}, "", "RecordingSid"),
    ("/bling/twilio_voicemail", "studio_voicemail", {"CallSid": "CA" + "3" * 31 + "\x00"}, "", "CallSid"),
    ("/bling/twilio_voice/record_done", "voice_record_done", {"RecordingSid": "RE\x00"}, "", "RecordingSid"),
    ("/bling/twilio_voice/record_done", "voice_record_done", {"CallStatus": "completed" * 30}, "", "CallStatus"),
    ("/bling/twilio_voice/recording", "voice_recording", {"CallSid": "x" * 250},
     "caller=%2B16175550123&hotline=%2B16175550100", "CallSid"),
    ("/bling/twilio_transcription", "voice_transcription", {"RecordingSid": "RE" + "5" * 32 + "\x00"}, "", "RecordingSid"),
    ("/bling/twilio_sms", "sms_basic", {"From": "+16175550123\x00"}, "", "From"),
])
def test_odd_ids_are_a_422_never_a_503(client, services, path, fixture, fields, query, field):
    resp = post_twilio(client, path, load_form(fixture, **fields), query=query)
    assert resp.status_code == 422 and field in resp.json["description"], resp.text
    assert services.store.rows() == []


@pytest.mark.parametrize("digits", ["", "#", "1", "hangup"])
def test_every_digits_twilio_sends_after_a_recording_is_accepted(client, services, digits):
    resp = post_twilio(client, "/bling/twilio_voice/record_done", load_form("voice_record_done", Digits=digits))
    assert resp.status_code == 200, resp.text


def test_an_odd_call_status_on_a_call_back_leg_is_a_422(client, services):
    for status in ("completed\x00", "x" * 250):
        resp = twilio_leg(client, "/bling/dialer/call_status", "abc123", "dialer_agent_status", leg="agent",
                          CallStatus=status)
        assert resp.status_code == 422 and "CallStatus" in resp.json["description"]
