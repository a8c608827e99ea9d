"""A finished call-back is noted in its conversation, once (plugin dialer_note)."""

from __future__ import annotations

import pytest

from bling.jobs.worker import drain
from dialer_legs import all_done, answer, call, env, notes, row, talk, token  # noqa: F401 (fixtures: call, env, token)
from dialer_support import agent_status, status, supporter_status, token_for


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
