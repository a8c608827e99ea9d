"""The agent answers a call-back: Bling asks for a key before anyone else is called (plugin dialer_answer)."""

from __future__ import annotations

import pytest

from bling_local_plugins.dialer.call_log import DialerCalls
from dialer_legs import answer, call, CONNECT, env, HANG_UP, press, row, token, XML  # noqa: F401 (fixtures: call, env, token)
from dialer_support import twilio_leg
from support import PUBLIC_URL


def test_answer_asks_for_a_key_before_anyone_else_is_called(client, services, call):
    resp = answer(client, call)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    assert resp.text == (
        f'{XML}<Response><Gather action="{PUBLIC_URL}/bling/dialer/connect?call={call["id"]}" '
        'actionOnEmptyResult="false" finishOnKey="" method="POST" numDigits="1" timeout="8">'
        '<Say loop="2">Press any key to be connected to 6 1 7, 5 5 5, 0 1 2 3.</Say></Gather>'
        "<Say>No key was pressed. Goodbye.</Say><Hangup /></Response>")
    assert row(services, call)["agent_status"] == "in-progress" and not row(services, call)["pressed"]


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


def test_forged_or_moved_twilio_requests_are_refused(client, services, call):
    assert answer(client, call, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    from support import load_form, twilio_signature

    signed_for_other_call = twilio_signature(f"{PUBLIC_URL}{CONNECT}?call=another", load_form("dialer_gather"))
    resp = twilio_leg(client, CONNECT, call["id"], "dialer_gather", signature=signed_for_other_call)
    assert resp.status_code == 403 and row(services, call)["pressed"] is False
