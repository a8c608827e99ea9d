"""The call's legs: TwiML (dialer_answer, dialer_connect), live status (dialer_progress,
dialer_status), cancel (dialer_cancel) and the note when it is over (dialer_note)."""

from __future__ import annotations

import pytest

from bling.dialer import tokens
from bling.dialer.call_log import DialerCalls, Limits
from bling.worker import drain
from dialer_support import (AGENT, AGENT_SID, SECRET_KEY, SUPPORTER_SID, agent_status, dialer_env,
                            open_page, page_post, status, supporter_status, token_for, twilio_leg)
from sms_helpers import played
from support import HOTLINE, PUBLIC_URL

ANSWER, CONNECT = "/bling/dialer/answer", "/bling/dialer/connect"
XML = '<?xml version="1.0" encoding="UTF-8"?>'
HANG_UP = f"{XML}<Response><Hangup /></Response>"



@pytest.fixture
def env(store_url):
    return dialer_env(store_url)


@pytest.fixture
def token(services):
    return token_for(services)


@pytest.fixture
def call(services, token):
    """A call Twilio has accepted (as dialer_call leaves it): ringing the agent is next."""
    log = DialerCalls(services.store)
    opened = log.open(SECRET_KEY, tokens.read(SECRET_KEY, token), AGENT, HOTLINE, Limits(3, 10))
    return log.placed(opened["id"], AGENT_SID, "queued")


def row(services, call) -> dict:
    return DialerCalls(services.store).get(call["id"])


def answer(client, call, **fields):
    return twilio_leg(client, ANSWER, call["id"], "dialer_answer", **fields)


def press(client, call, **fields):
    return twilio_leg(client, CONNECT, call["id"], "dialer_gather", **fields)


def talk(client, call) -> None:
    """The agent answers and presses a key; the supporter's phone rings and they answer."""
    for step in ("initiated", "ringing"):
        agent_status(client, call["id"], step)
    agent_status(client, call["id"], "in-progress")
    answer(client, call)
    press(client, call)
    for step in ("initiated", "ringing", "in-progress"):
        supporter_status(client, call["id"], step)


def notes(vcr) -> int:
    """How many notes Bling wrote (played from the cassette, which holds one)."""
    return played(vcr, "POST", "/notes")


def all_done(services) -> bool:
    """Every accepted status callback's job finished (none failed on a second note)."""
    return set(services.store.counts()) == {"done"}


def test_answer_asks_for_a_key_before_anyone_else_is_called(client, services, call):
    resp = answer(client, call)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    assert resp.text == (
        f'{XML}<Response><Gather action="{PUBLIC_URL}/bling/dialer/connect?call={call["id"]}" '
        'actionOnEmptyResult="false" finishOnKey="" method="POST" numDigits="1" timeout="8">'
        '<Say loop="2">Press any key to be connected to 6 1 7, 5 5 5, 0 1 2 3.</Say></Gather>'
        "<Say>No key was pressed. Goodbye.</Say><Hangup /></Response>")
    assert row(services, call)["agent_status"] == "in-progress" and not row(services, call)["pressed"]


def test_key_press_dials_the_supporter_from_the_hotline(client, services, call):
    answer(client, call)
    resp = press(client, call)
    assert resp.text == (
        f'{XML}<Response><Say>Connecting.</Say><Dial callerId="{HOTLINE}" timeout="30">'
        f'<Number statusCallback="{PUBLIC_URL}/bling/dialer/call_status?call={call["id"]}&amp;leg=supporter" '
        'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST">+16175550123</Number>'
        "</Dial><Say>The call has ended. Goodbye.</Say><Hangup /></Response>")
    assert row(services, call)["pressed"] is True


def test_no_key_hangs_up_without_calling_the_supporter(client, services, call):
    answer(client, call)
    resp = press(client, call, Digits="")
    assert resp.text == f"{XML}<Response><Say>No key was pressed. Goodbye.</Say><Hangup /></Response>"
    assert row(services, call)["pressed"] is False


def test_cancelled_call_hangs_up_at_answer_and_at_the_key(client, services, call):
    DialerCalls(services.store).request_cancel(call["id"])
    cancelled = f"{XML}<Response><Say>This call was cancelled. Goodbye.</Say><Hangup /></Response>"
    assert answer(client, call).text == cancelled
    assert press(client, call).text == cancelled
    assert row(services, call)["pressed"] is False


@pytest.mark.parametrize("fields", [{"CallSid": "CA" + "ee" * 16}, {"To": "+16175550198"}])
def test_requests_about_another_leg_hang_up(client, services, call, fields):
    assert answer(client, call, **fields).text == HANG_UP
    assert press(client, call, **fields).text == HANG_UP
    assert row(services, call)["pressed"] is False


def test_unknown_call_id_hangs_up(client, services, call):
    assert twilio_leg(client, CONNECT, "no-such-call", "dialer_gather").text == HANG_UP


def test_forged_or_moved_twilio_requests_are_refused(client, services, call):
    assert answer(client, call, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    from support import load_form, twilio_signature

    signed_for_other_call = twilio_signature(f"{PUBLIC_URL}{CONNECT}?call=another", load_form("dialer_gather"))
    resp = twilio_leg(client, CONNECT, call["id"], "dialer_gather", signature=signed_for_other_call)
    assert resp.status_code == 403 and row(services, call)["pressed"] is False


def test_page_follows_the_call_in_plain_words(client, services, call, token):
    def shown():
        body = status(client, token, call["id"]).json
        return body["state"], body["message"], body["final"]

    assert shown() == ("calling", "Calling you…", False)
    agent_status(client, call["id"], "ringing")
    assert shown() == ("calling", "Calling you… your phone should be ringing.", False)
    agent_status(client, call["id"], "in-progress")
    assert shown() == ("answer", "Answer, then press any key to be connected to (617) 555-0123.", False)
    press(client, call)
    assert shown() == ("connecting", "Connecting you to (617) 555-0123…", False)
    supporter_status(client, call["id"], "in-progress")
    assert shown() == ("connected", "Connected to (617) 555-0123.", False)
    supporter_status(client, call["id"], "completed", CallDuration="192")
    assert shown() == ("ended", "Call ended after 3 min 12 s.", True)


def test_status_only_for_the_link_that_placed_the_call(client, services, call):
    other = token_for(services, conversation_id=6000)
    resp = status(client, other, call["id"])
    assert resp.status_code == 404 and resp.json["message"] == "This link placed no such call."


@pytest.mark.vcr
def test_completed_call_is_noted_with_its_duration(client, services, call, vcr):
    talk(client, call)
    supporter_status(client, call["id"], "completed", CallDuration="192")
    agent_status(client, call["id"], "completed", CallDuration="200")
    assert drain(services) == {"done": 8}  # one job per status callback; only the last writes
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)
    assert row(services, call)["note_inbox_id"] is not None


@pytest.mark.vcr
def test_repeated_callbacks_write_one_note(client, services, call, vcr):
    talk(client, call)
    for _ in range(2):  # Twilio retries: the same callbacks twice, crossing
        agent_status(client, call["id"], "completed", CallDuration="200")
        supporter_status(client, call["id"], "completed", CallDuration="192")
    drain(services)
    agent_status(client, call["id"], "completed", CallDuration="200")
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


@pytest.mark.vcr
def test_late_supporter_leg_is_waited_for(client, services, call, clock, vcr):
    talk(client, call)
    agent_status(client, call["id"], "completed", CallDuration="50")
    assert drain(services) == {"done": 6, "retry": 1}  # the agent's end waits for the supporter's
    assert notes(vcr) == 0
    supporter_status(client, call["id"], "completed", CallDuration="42")
    clock.advance(31)
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


@pytest.mark.vcr
def test_supporter_leg_never_reported_is_noted_as_unknown(client, services, call, clock, vcr):
    talk(client, call)
    agent_status(client, call["id"], "completed", CallDuration="50")
    for _ in range(4):
        drain(services)
        clock.advance(31)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


def supporter_did_not_talk(client, services, call, vcr, outcome: str) -> None:
    talk(client, call)
    supporter_status(client, call["id"], outcome)
    agent_status(client, call["id"], "completed", CallDuration="40")
    assert status(client, token_for(services), call["id"]).json["final"] is True
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


@pytest.mark.vcr
def test_supporter_no_answer_is_noted(client, services, call, vcr):
    supporter_did_not_talk(client, services, call, vcr, "no-answer")


@pytest.mark.vcr
def test_supporter_busy_is_noted(client, services, call, vcr):
    supporter_did_not_talk(client, services, call, vcr, "busy")


@pytest.mark.vcr
def test_agent_no_answer_is_noted(client, services, call, token, vcr):
    agent_status(client, call["id"], "ringing")
    agent_status(client, call["id"], "no-answer")
    assert status(client, token, call["id"]).json["message"] == "Your phone did not answer."
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


@pytest.mark.vcr
def test_no_key_pressed_is_noted(client, services, call, token, vcr):
    agent_status(client, call["id"], "in-progress")
    answer(client, call)
    agent_status(client, call["id"], "completed", CallDuration="20")  # voicemail listened, hung up
    assert status(client, token, call["id"]).json["message"] == "No key was pressed, so the supporter was not called."
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)


@pytest.mark.vcr
def test_cancel_while_ringing_ends_the_call_and_is_noted(client, services, call, token, vcr):
    agent_status(client, call["id"], "ringing")
    _, csrf = open_page(client, token)
    resp = page_post(client, "/bling/dialer/cancel", token, csrf, {"call": call["id"]})
    assert resp.status_code == 200 and resp.json == {"call": call["id"], "state": "ended", "message": "Cancelled.",
                                                     "final": True}
    agent_status(client, call["id"], "canceled")
    drain(services)
    assert vcr.all_played and notes(vcr) == 1 and all_done(services)
    assert answer(client, call).text.endswith("<Hangup /></Response>")  # a late answer cannot connect


@pytest.mark.vcr
def test_cancel_after_answer_hangs_up(client, services, call, token, vcr):
    agent_status(client, call["id"], "in-progress")
    _, csrf = open_page(client, token)
    resp = page_post(client, "/bling/dialer/cancel", token, csrf, {"call": call["id"]})
    assert resp.json["state"] == "ended" and vcr.all_played
    assert press(client, call).text == f"{XML}<Response><Say>This call was cancelled. Goodbye.</Say><Hangup /></Response>"


def test_cancel_needs_the_page_csrf_value(client, services, call, token):
    resp = page_post(client, "/bling/dialer/cancel", token, None, {"call": call["id"]})
    assert resp.status_code == 403 and row(services, call)["cancel_requested"] is False


def test_supporter_sid_is_remembered(client, services, call):
    talk(client, call)
    assert row(services, call)["supporter_sid"] == SUPPORTER_SID
