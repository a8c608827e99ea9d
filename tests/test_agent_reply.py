"""An agent replies in Help Scout: the supporter gets the text, the agent a note."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from bling.clients.twilio_api import TwilioAmbiguous, TwilioTransient
from bling.jobs.worker import MAX_ATTEMPTS, drain
from sms_helpers import drain_until_dead, played, twilio_posts
from support import load_json, post_helpscout

HS = "/bling/helpscout_webhook"



def reply(client, payload=None, **changes):
    payload = payload or load_json("agent_reply_v2")
    payload.update(changes)
    resp = post_helpscout(client, HS, payload)
    assert resp.status_code == 204
    return payload


def newest(payload):
    return payload["_embedded"]["threads"][0]


@pytest.mark.vcr
def test_reply_is_texted_and_noted(client, services, vcr):
    reply(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    (row,) = services.store.rows()
    assert '"sms_sids": ["SM0000000000000000000000000000b001"]' in row["result"]


@pytest.mark.vcr
def test_legacy_payload_shape_is_texted(client, services, vcr):
    reply(client, load_json("agent_reply_legacy"))
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_customer_without_phone_in_payload_is_read_once(client, services, vcr):
    payload = load_json("agent_reply_v2")
    payload["primaryCustomer"] = {"id": 556}
    reply(client, payload)
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_long_reply_goes_out_complete_in_parts(client, services, vcr):
    """Planted bug: the parts sent in reverse order (each still matches its own interaction)."""
    words = [f"w{n:04d}" for n in range(1, 401)]
    payload = load_json("agent_reply_v2")
    newest(payload)["body"] = "<p>" + " ".join(words) + "</p>"
    reply(client, payload)
    assert drain(services) == {"done": 1}
    parts = [dict(parse_qsl(r.body.decode()))["Body"] for r in twilio_posts(vcr)]
    assert len(parts) == 2 and parts[0].startswith("w0001 ") and parts[1].endswith(" w0400")
    assert " ".join(parts).split() == words  # part 1 first, nothing lost or repeated


@pytest.mark.vcr
def test_opted_out_supporter_gets_nothing_and_agent_is_told_why(client, services, vcr):
    reply(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    (row,) = services.store.rows()
    assert '"sms_error": 21610' in row["result"]


@pytest.mark.vcr
def test_invalid_number_is_explained(client, services, vcr):
    reply(client)
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_payload_without_threads_reads_them(client, services, vcr):
    payload = load_json("agent_reply_v2")
    del payload["_embedded"]
    reply(client, payload)
    (row,) = services.store.rows()
    assert row["key"] == "helpscout:convo:5001:3"
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_twilio_timeout_after_send_is_not_sent_twice(client, services, clock, vcr, monkeypatch):
    real_send = services.twilio.send_sms
    calls = []

    def send_then_time_out(**kwargs):
        calls.append(kwargs)
        raise TwilioAmbiguous("read timed out after the request was sent")

    monkeypatch.setattr(services.twilio, "send_sms", send_then_time_out)
    reply(client)
    assert drain(services) == {"retry": 1}
    monkeypatch.setattr(services.twilio, "send_sms", real_send)  # would fail: no interaction recorded
    clock.advance(600)
    assert drain(services) == {"done": 1}
    assert len(calls) == 1 and vcr.all_played


@pytest.mark.vcr
def test_a_reply_that_never_goes_out_leaves_the_agent_a_note(client, services, clock, vcr, monkeypatch):
    """handle_failure: once the job is dead, the agent reads that the reply was not texted.

    Planted bug: agent_reply's handle_failure adds no note (the agent believes the supporter got it).
    """
    def twilio_down(**kwargs):
        raise TwilioTransient("Twilio answered 503")

    monkeypatch.setattr(services.twilio, "send_sms", twilio_down)
    reply(client)
    assert drain_until_dead(services, clock) == {"retry": MAX_ATTEMPTS - 1, "dead": 1}
    assert played(vcr, "POST", "/conversations/5001/notes") == 1


def test_ignored_replies_are_not_stored(client, services):
    cases = []
    payload = load_json("agent_reply_v2")
    payload["type"] = "email"
    cases.append(payload)
    payload = load_json("agent_reply_v2")
    newest(payload)["type"] = "note"
    cases.append(payload)
    payload = load_json("agent_reply_v2")
    newest(payload)["state"] = "draft"
    cases.append(payload)
    payload = load_json("agent_reply_v2")
    newest(payload)["source"] = {"type": "api", "via": "user"}
    cases.append(payload)
    payload = load_json("agent_reply_v2")
    newest(payload)["createdBy"] = {"id": 555, "type": "customer"}
    cases.append(payload)
    for payload in cases:
        assert post_helpscout(client, HS, payload).status_code == 204
    assert services.store.rows() == []


def test_a_reply_empty_once_cleaned_is_left_to_its_job_which_texts_nothing(client, services):
    """The webhook reads no HTML (a web process never loads an HTML parser); the job finds no text
    in a signature-only reply and calls neither Twilio nor Help Scout (no cassette: any call fails)."""
    payload = load_json("agent_reply_v2")
    newest(payload)["body"] = "<div><br></div><div>--</div><div>Jane</div>"
    assert post_helpscout(client, HS, payload).status_code == 204
    assert len(services.store.rows()) == 1
    assert drain(services) == {"done": 1}
    (row,) = services.store.rows()
    assert '"skipped": "reply is empty once cleaned"' in row["result"]


def test_mobile_source_accepted_when_configured(tmp_path, env):
    """routes.toml options.agent_reply.sources widens what is texted."""
    import falcon.testing

    from bling.edge.app import create_app
    from bling.services import build_services
    from bling.config.settings import load_settings

    routes = open(load_settings(env).routes_path).read().replace('sources = ["web"]', 'sources = ["web", "mobile"]')
    (tmp_path / "routes.toml").write_text(routes)
    services = build_services(load_settings(dict(env, BLING_ROUTES=str(tmp_path / "routes.toml"))),
                              entry_points=False)
    client = falcon.testing.TestClient(create_app(services))
    payload = load_json("agent_reply_v2")
    newest(payload)["source"] = {"type": "mobile", "via": "user"}
    assert post_helpscout(client, HS, payload).status_code == 204
    assert len(services.store.rows()) == 1
