"""The dialer's call log (bling_local_plugins.dialer.call_log): limits, forward-only legs, one note per call."""

from __future__ import annotations

import pytest

from bling_local_plugins.dialer import tokens
from bling_local_plugins.dialer.call_log import CallRefused, DialerCalls, Limits
from dialer_support import AGENT, SECRET_KEY
from support import HOTLINE, SUPPORTER, feature_store


@pytest.fixture
def log(store_url, clock):
    store = feature_store(store_url, clock=clock)
    yield DialerCalls(store)
    store.close()


def claims_for(clock, conversation_id: int = 5002) -> tokens.Claims:
    token = tokens.issue(SECRET_KEY, conversation_id=conversation_id, conversation_number=None, mailbox_id=206906,
                         supporter=SUPPORTER, user_id=77, agent_name="Jane Agent", now=clock(), lifetime=3600)
    return tokens.read(SECRET_KEY, token)


def place(log, claims, limits=Limits(3, 10), agent=AGENT) -> dict:
    return log.open(SECRET_KEY, claims, agent, HOTLINE, limits)


def end(log, call) -> None:
    log.leg_status(call["id"], "agent", "completed")


def test_calls_per_link_are_limited_and_numbered(log, clock):
    claims = claims_for(clock)
    first = place(log, claims)
    end(log, first)
    second = place(log, claims)
    end(log, second)
    assert (first["sequence"], second["sequence"]) == (1, 2)
    assert second["id"] == tokens.call_id(SECRET_KEY, claims.token_id, 2)
    with pytest.raises(CallRefused, match="already placed 2 calls"):
        place(log, claims, Limits(2, 10))


def test_one_call_at_a_time_per_link(log, clock):
    claims = claims_for(clock)
    first = place(log, claims)
    with pytest.raises(CallRefused, match="still in progress"):
        place(log, claims)
    log.failed(first["id"], "Twilio refused")
    assert place(log, claims)["sequence"] == 2


def test_calls_per_agent_phone_per_hour_whatever_the_link(log, clock):
    for conversation in (1, 2):
        end(log, place(log, claims_for(clock, conversation), Limits(3, 2)))
    with pytest.raises(CallRefused, match="2 times in the last hour"):
        place(log, claims_for(clock, 3), Limits(3, 2))
    place(log, claims_for(clock, 3), Limits(3, 2), agent="+16175550198")  # another phone is fine
    clock.advance(3601)
    assert place(log, claims_for(clock, 3), Limits(3, 2))["agent_phone"] == AGENT


def test_a_leg_only_moves_forward(log, clock):
    call = place(log, claims_for(clock))
    log.placed(call["id"], "CA" + "d1" * 16, "queued")
    log.leg_status(call["id"], "agent", "in-progress")
    assert log.leg_status(call["id"], "agent", "ringing")["agent_status"] == "in-progress"  # late callback
    log.leg_status(call["id"], "agent", "completed", duration=75)
    row = log.leg_status(call["id"], "agent", "failed", duration=1)  # nothing after the end
    assert (row["agent_status"], row["agent_duration"]) == ("completed", 75)
    assert log.leg_status("no-such-call", "agent", "ringing") is None


def test_key_press_counts_only_before_cancel(log, clock):
    claims = claims_for(clock)
    call = place(log, claims)
    log.request_cancel(call["id"])
    assert log.press(call["id"]) is False and log.get(call["id"])["pressed"] is False
    log.failed(call["id"], "cancelled")
    other = place(log, claims)
    assert log.press(other["id"]) is True


def test_only_one_job_claims_the_note(log, clock):
    call = place(log, claims_for(clock))
    assert log.claim_note(call["id"], 10) is True
    assert log.claim_note(call["id"], 11) is False
    assert log.claim_note(call["id"], 10) is True  # the claiming job's own retry
