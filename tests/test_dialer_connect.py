"""The agent pressed a key: Bling dials the supporter from the hotline (plugin dialer_connect)."""

from __future__ import annotations

from dialer_legs import answer, call, CONNECT, env, HANG_UP, press, row, token, XML  # noqa: F401 (fixtures: call, env, token)
from dialer_support import twilio_leg
from support import HOTLINE, PUBLIC_URL


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


def test_unknown_call_id_hangs_up(client, services, call):
    assert twilio_leg(client, CONNECT, "no-such-call", "dialer_gather").text == HANG_UP
