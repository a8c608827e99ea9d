"""The sms_fallback plugin: Twilio's "primary handler fails" answer, served by Bling.

``bling provision`` points each number's SmsFallbackUrl at it (a TwiML Bin
cannot be created through the API). It must work with the store down, and
stay silent when the text was in fact recorded.
"""

from __future__ import annotations

import pytest

from bling_local_plugins.sms.state import set_opt_out
from support import HOTLINE, SUPPORTER, load_form, post_twilio

FALLBACK = "/bling/twilio_sms_fallback"
APOLOGY = "Sorry, we could not receive your message. Please try again later or call us instead."


def fallback_form(**overrides):
    return load_form("sms_basic", ErrorCode="11200", ErrorUrl="https://hotline.example.com/bling/twilio_sms", **overrides)


def test_a_text_bling_did_not_record_gets_the_failure_reply(client, services):
    resp = post_twilio(client, FALLBACK, fallback_form())
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    assert f"<Message>{APOLOGY}</Message>" in resp.text
    assert services.store.rows() == []  # the fallback records nothing; reconcile ingests it later


def test_a_text_already_recorded_gets_nothing(client, services):
    assert post_twilio(client, "/bling/twilio_sms", load_form("sms_basic")).status_code == 200
    resp = post_twilio(client, FALLBACK, fallback_form())
    assert resp.status_code == 200 and "<Message>" not in resp.text and "<Response" in resp.text


def test_with_the_store_down_the_supporter_is_still_told(client, services, monkeypatch):
    def down(key):
        raise OSError("database is gone")

    monkeypatch.setattr(services.store, "has_key", down)
    resp = post_twilio(client, FALLBACK, fallback_form())
    assert resp.status_code == 200 and f"<Message>{APOLOGY}</Message>" in resp.text


def test_a_forged_fallback_request_is_refused(client):
    assert post_twilio(client, FALLBACK, fallback_form(), signature="forged").status_code == 403


def test_a_supporter_who_opted_out_gets_nothing(client, services):
    """Twilio would block the reply anyway (21610); Bling does not try."""
    set_opt_out(services.store, f"twilio:{HOTLINE}", SUPPORTER, True, "STOP")
    resp = post_twilio(client, FALLBACK, fallback_form(Body="Are you there?"))
    assert resp.status_code == 200 and "<Message>" not in resp.text and "<Response" in resp.text
    set_opt_out(services.store, f"twilio:{HOTLINE}", SUPPORTER, False, "START")
    assert f"<Message>{APOLOGY}</Message>" in post_twilio(client, FALLBACK, fallback_form()).text


@pytest.mark.parametrize("body, opt_out_type", [(" stop ", None), ("ＳＴＯＰ", None), ("Start", None),
                                                ("please remove me", "STOP")])
def test_a_stop_or_start_text_itself_gets_no_failure_reply(client, services, body, opt_out_type):
    """Twilio confirms STOP and START itself; a failure text would follow the confirmation."""
    form = fallback_form(Body=body, **({"OptOutType": opt_out_type} if opt_out_type else {}))
    resp = post_twilio(client, FALLBACK, form)
    assert resp.status_code == 200 and "<Message>" not in resp.text


def test_an_opt_out_in_another_hotline_does_not_silence_this_one(client, services):
    set_opt_out(services.store, "twilio:+16175550199", SUPPORTER, True, "STOP")
    assert f"<Message>{APOLOGY}</Message>" in post_twilio(client, FALLBACK, fallback_form()).text
