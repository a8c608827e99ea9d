"""Cancel a call-back from the page: Twilio ends the agent's call; nobody is dialled after (plugin dialer_cancel)."""

from __future__ import annotations

import pytest

from bling.jobs.worker import drain
from dialer_legs import all_done, answer, call, env, notes, press, row, token, XML  # noqa: F401 (fixtures: call, env, token)
from dialer_support import agent_status, open_page, page_post


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
