"""Placing a call-back (dialer_call): toll-fraud rules, CSRF, rate limits, Twilio's answer.

The Twilio cassettes match on the body, so a test passes only if Bling asked
Twilio for exactly that call: agent's phone, hotline number, callback URLs.
"""

from __future__ import annotations

import pytest

from bling_local_plugins.dialer import tokens
from bling_local_plugins.dialer.call_log import DialerCalls, Limits
from dialer_support import (AGENT, AGENT_SID, SECRET_KEY, agent_status, dial, dialer_env, open_page,
                            page_post, status, token_for)
from support import HOTLINE, OTHER_HOTLINE, OTHER_MAILBOX_ID, PUBLIC_URL, SUPPORTER

GB_AGENT = "+447400123456"



@pytest.fixture
def env(store_url, request):
    marker = request.node.get_closest_marker("dialer_env")
    return dialer_env(store_url, **(marker.kwargs if marker else {}))


@pytest.fixture
def page(client, services):
    """(token, CSRF value) of a freshly opened dialer page."""
    token = token_for(services)
    resp, csrf = open_page(client, token)
    assert resp.status_code == 200
    return token, csrf


def calls(services) -> list[dict]:
    import sqlalchemy as sa

    from bling_local_plugins.dialer.tables import dialer_calls

    return services.store.all(sa.select(dialer_calls).order_by(dialer_calls.c.created_at))


def refused(resp, status_code: int, words: str) -> None:
    assert resp.status_code == status_code, resp.text
    assert resp.json["state"] == "failed" and resp.json["final"] is True
    assert words in resp.json["message"], resp.json["message"]


@pytest.mark.vcr
def test_dial_rings_the_agent_from_the_hotline(client, services, page, vcr):
    token, csrf = page
    resp = dial(client, token, csrf)
    assert resp.status_code == 201
    assert resp.json["state"] == "calling" and resp.json["message"] == "Calling you…" and not resp.json["final"]
    assert vcr.all_played and len(vcr.played_requests) == 1
    (call,) = calls(services)
    assert call["id"] == resp.json["call"] == tokens.call_id(SECRET_KEY, call["token_id"], 1)
    assert (call["agent_phone"], call["supporter"], call["hotline"], call["agent_sid"], call["agent_status"]) == \
        (AGENT, SUPPORTER, HOTLINE, AGENT_SID, "queued")
    assert (call["conversation_id"], call["user_id"], call["agent_name"]) == (5002, 77, "Jane Agent")
    assert status(client, token, call["id"]).json == resp.json


@pytest.mark.vcr
def test_national_form_of_the_agent_phone_is_accepted(client, services, page, vcr):
    token, csrf = page
    assert dial(client, token, csrf, phone="(617) 555-0199").status_code == 201
    assert vcr.all_played and calls(services)[0]["agent_phone"] == AGENT


def test_supporter_number_never_comes_from_the_request(client, services, page):
    token, csrf = page
    resp = page_post(client, "/bling/dialer/call", token, csrf, {"phone": AGENT, "to": "+19005550123"})
    assert resp.status_code == 422 and "to" in resp.json["description"]
    assert calls(services) == []


@pytest.mark.parametrize("phone, words", [
    (GB_AGENT, "only calls agents' phones in US"),
    ("+19005550123", "premium-rate"),
    ("555", "not a valid phone number"),
    ("", "Enter your phone number"),
    (HOTLINE, "the hotline's own number"),
    (SUPPORTER, "the supporter's number"),
])
def test_agent_phone_rules(client, services, page, phone, words):
    token, csrf = page
    refused(dial(client, token, csrf, phone=phone), 422, words)
    assert calls(services) == []


@pytest.mark.dialer_env(BLING_DIALER_COUNTRIES="us, gb")
def test_another_hotline_of_this_bling_is_never_the_agents_phone(client, services, page):
    """The link's hotline is the US one; the GB hotline is Bling's too: calling it would ring its group."""
    token, csrf = page
    refused(dial(client, token, csrf, phone=OTHER_HOTLINE), 422, "one of Bling's hotlines")
    assert calls(services) == []


@pytest.mark.vcr
@pytest.mark.dialer_env(BLING_DIALER_COUNTRIES="us, gb")
def test_allowed_countries_let_a_gb_agent_be_called(client, services, page, vcr):
    token, csrf = page
    assert dial(client, token, csrf, phone="+44 7400 123456").status_code == 201
    assert vcr.all_played


@pytest.mark.vcr
def test_uk_hotline_calls_uk_agents_from_its_own_number(client, services, vcr):
    token = token_for(services, mailbox_id=OTHER_MAILBOX_ID)
    _, csrf = open_page(client, token)
    refused(dial(client, token, csrf, phone=AGENT), 422, "only calls agents' phones in GB")
    assert dial(client, token, csrf, phone=GB_AGENT).status_code == 201
    assert vcr.all_played


@pytest.mark.parametrize("headers, words", [
    ({"Origin": "https://evil.example.net"}, "came from https://evil.example.net"),
    ({"Sec-Fetch-Site": "cross-site"}, "another site (cross-site)"),
    ({"Sec-Fetch-Site": "same-site", "Origin": PUBLIC_URL}, "another site (same-site)"),
    ({"Origin": None, "Sec-Fetch-Site": None}, "did not say it came from the dialer page"),
    ({"Origin": None, "Sec-Fetch-Site": None, "Referer": "https://evil.example.net/bling/dialer"},
     "did not say it came from the dialer page"),
    ({"Origin": None, "Referer": PUBLIC_URL + ".evil.example.net/"}, "did not say it came"),
])
def test_cross_site_requests_are_refused(client, services, page, headers, words):
    token, csrf = page
    refused(dial(client, token, csrf, headers=headers), 403, words)
    assert calls(services) == []


@pytest.mark.vcr
def test_referer_from_the_page_is_enough(client, services, page, vcr):
    """Browsers that send no Origin still send the page's own URL as Referer."""
    token, csrf = page
    resp = dial(client, token, csrf, headers={"Origin": None, "Sec-Fetch-Site": None,
                                              "Referer": f"{PUBLIC_URL}/bling/dialer?t={token}"})
    assert resp.status_code == 201 and vcr.all_played


def test_csrf_value_is_required_and_bound_to_the_link(client, services, page):
    token, csrf = page
    refused(dial(client, token, None), 403, "security value is missing or wrong")
    refused(dial(client, token, csrf[:-3] + "xyz"), 403, "security value")
    other = token_for(services, conversation_id=6000)
    _, other_csrf = open_page(client, other)
    refused(dial(client, token, other_csrf), 403, "security value")
    assert calls(services) == []


def test_a_form_post_is_refused(client, services, page):
    """HTML forms of other sites can send urlencoded bodies; the page sends only JSON."""
    token, csrf = page
    refused(dial(client, token, csrf, content_type="application/x-www-form-urlencoded"), 403, "sends JSON")


def test_missing_or_altered_token_is_refused(client, services, page):
    token, csrf = page
    refused(page_post(client, "/bling/dialer/call", "", csrf, {"phone": AGENT}), 403, "no call-back token")
    refused(dial(client, token[:-2] + "zz", csrf), 403, "not valid")
    assert calls(services) == []


def test_expired_link_places_no_call(client, services, page, clock):
    token, csrf = page
    clock.advance(3600)
    refused(dial(client, token, csrf), 403, "expired")
    assert calls(services) == []


@pytest.mark.vcr
def test_second_dial_while_the_first_rings_is_refused(client, services, page, vcr):
    token, csrf = page
    assert dial(client, token, csrf).status_code == 201
    refused(dial(client, token, csrf), 429, "still in progress")
    assert vcr.all_played and len(calls(services)) == 1


@pytest.mark.vcr
@pytest.mark.dialer_env(BLING_DIALER_CALLS_PER_TOKEN="1")
def test_link_limit_of_one_call_refuses_the_second(client, services, page, vcr):
    token, csrf = page
    call_id = dial(client, token, csrf).json["call"]
    assert agent_status(client, call_id, "no-answer").status_code == 200
    refused(dial(client, token, csrf), 429, "already placed 1 calls")
    assert vcr.all_played


@pytest.mark.dialer_env(BLING_DIALER_CALLS_PER_AGENT_HOUR="2")
def test_agent_phone_limit_per_hour(client, services, page, clock):
    """Other links already rang this phone twice this hour: no third call, whichever link asks."""
    log = DialerCalls(services.store)
    for conversation in (6001, 6002):
        claims = tokens.read(SECRET_KEY, token_for(services, conversation_id=conversation))
        log.failed(log.open(SECRET_KEY, claims, AGENT, HOTLINE, Limits(3, 2))["id"], "test")
    token, csrf = page
    refused(dial(client, token, csrf), 429, "called this phone 2 times in the last hour")
    assert len(calls(services)) == 2


@pytest.mark.vcr
def test_twilio_refusal_is_shown_in_plain_words(client, services, page, vcr):
    token, csrf = page
    resp = dial(client, token, csrf)
    assert resp.status_code == 502 and resp.json["state"] == "failed" and resp.json["final"]
    assert "not allowed to call your country" in resp.json["message"]
    (call,) = calls(services)
    assert call["agent_status"] == "failed" and call["agent_sid"] is None
    assert vcr.all_played


@pytest.mark.vcr
def test_unconfirmed_call_keeps_the_page_waiting(client, services, page, vcr):
    """A 500 after sending may still ring: the page keeps following the call's callbacks."""
    token, csrf = page
    resp = dial(client, token, csrf)
    assert resp.status_code == 201 and resp.json["state"] == "calling" and not resp.json["final"]
    assert "not confirmed" in resp.json["message"]
    call_id = resp.json["call"]
    agent_status(client, call_id, "ringing")
    assert status(client, token, call_id).json["message"] == "Calling you… your phone should be ringing."
    assert calls(services)[0]["agent_sid"] == AGENT_SID  # learnt from the callback


@pytest.mark.vcr
def test_busy_twilio_asks_to_try_again(client, services, page, vcr):
    token, csrf = page
    resp = dial(client, token, csrf)
    assert resp.status_code == 503 and resp.json["state"] == "failed"
    assert "try again in a moment" in resp.json["message"]
    assert vcr.all_played and calls(services)[0]["agent_status"] == "failed"
