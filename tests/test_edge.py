"""The edge: signatures before parsing, clear 4xx for bad input, durable accept."""

from __future__ import annotations

import json

import falcon
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from twilio.request_validator import RequestValidator

from support import (ACCOUNT_SID, AUTH_TOKEN, HOTLINE, PUBLIC_URL, load_form, load_json, post_helpscout, post_twilio,
                     twilio_signature)

SMS = "/bling/twilio_sms"
HS = "/bling/helpscout_webhook"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def inbox(services):
    return services.store.rows()


def test_sms_accepted_answers_empty_twiml_as_xml(client, services):
    resp = post_twilio(client, SMS, load_form("sms_basic"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/xml")
    assert resp.text == EMPTY_TWIML
    rows = inbox(services)
    assert [r["key"] for r in rows] == ["twilio:sms:SM11111111111111111111111111111111"]
    assert rows[0]["supporter"] == "+16175550100|+16175550123"
    assert (rows[0]["state"], rows[0]["lane"]) == ("pending", "helpscout")  # queued: the row is the queue
    assert services.store.due() == [rows[0]["id"]]


def test_sms_forged_signature_is_403_and_nothing_stored(client, services):
    resp = post_twilio(client, SMS, load_form("sms_basic"), signature="bm90IGEgc2lnbmF0dXJl")
    assert resp.status_code == 403
    assert inbox(services) == []


def test_sms_missing_signature_is_403(client, services):
    resp = post_twilio(client, SMS, load_form("sms_basic"), signature=None)
    assert resp.status_code == 403
    assert "Signature" in resp.json["title"]
    assert inbox(services) == []


def test_sms_signature_over_other_url_is_403(client, services):
    pairs = load_form("sms_basic")
    wrong = twilio_signature("https://elsewhere.example.com" + SMS, pairs)
    assert post_twilio(client, SMS, pairs, signature=wrong).status_code == 403


def test_sms_signature_covers_empty_fields(client, services):
    """Empty fields (ToZip=) are signed too; dropping them would break validation."""
    pairs = load_form("sms_basic")
    assert ("ToZip", "") in pairs
    assert post_twilio(client, SMS, pairs).status_code == 200


def test_sms_tampered_body_is_403(client, services):
    pairs = load_form("sms_basic")
    signature = twilio_signature(PUBLIC_URL + SMS, pairs)
    tampered = [(k, "Send money" if k == "Body" else v) for k, v in pairs]
    assert post_twilio(client, SMS, tampered, signature=signature).status_code == 403


_FIELD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@hypothesis_settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(pairs=st.lists(st.tuples(_FIELD, _FIELD), max_size=8),
       url=st.sampled_from(["https://bling.example.org/bling/twilio_sms", "https://bling.example.org:443/x?a=1&b=",
                            "http://127.0.0.1:8000/bling/twilio_sms", "http://host/p?bodySHA256=x"]),
       signer=st.sampled_from(["as is", "without port", "with port", "other token", "garbage"]))
def test_form_signature_check_accepts_what_the_twilio_library_accepts(pairs, url, signer):
    """The edge's form check (fields' part built once) agrees with RequestValidator.validate, forgeries included."""
    from twilio.request_validator import add_port, remove_port
    from urllib.parse import urlparse

    from bling.edge.verifiers import _MultiParams, form_signature_valid

    params = _MultiParams(pairs)
    signed_url = {"without port": remove_port(urlparse(url)), "with port": add_port(urlparse(url))}.get(signer, url)
    token = "another-token-entirely" if signer == "other token" else AUTH_TOKEN
    signature = "bm90IGEgc2lnbmF0dXJl" if signer == "garbage" else RequestValidator(token).compute_signature(signed_url, params)
    expected = RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert form_signature_valid(AUTH_TOKEN, url, params, signature) is expected
    assert expected is (signer in ("as is", "without port", "with port"))


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(["&", "=", "+", "%", "%2", "%41", "%e2%9c%93", "%ZZ", "%ff", "a", "B", " ", "é", "✓"]))
       .map("".join) | st.text())
def test_form_fields_are_parsed_as_parse_qsl_parses_them(text):
    from urllib.parse import parse_qsl

    from bling.edge.verifiers import form_pairs

    assert form_pairs(text) == parse_qsl(text, keep_blank_values=True)


def test_sms_signature_uses_public_url_with_query(client, services):
    pairs = load_form("sms_basic")
    assert post_twilio(client, SMS, pairs, query="source=service").status_code == 200


def test_sms_behind_proxy_without_public_url_uses_request_url(env, tmp_path):
    import falcon.testing

    from bling.edge.app import create_app
    from bling.services import build_services
    from bling.config.settings import load_settings

    env = dict(env, BLING_PUBLIC_URL="")
    services = build_services(load_settings(env), entry_points=False)
    client = falcon.testing.TestClient(create_app(services))
    pairs = load_form("sms_basic")
    from urllib.parse import urlencode

    signature = twilio_signature("http://falconframework.org" + SMS, pairs)
    resp = client.simulate_post(SMS, body=urlencode(pairs), content_type=falcon.MEDIA_URLENCODED,
                                headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200


def test_sms_messaging_service_number_found_by_to(client, services):
    resp = post_twilio(client, SMS, load_form("sms_international_service"))
    assert resp.status_code == 200
    (row,) = inbox(services)
    assert row["supporter"] == "+16175550100|+447700900123"
    assert json.loads(row["payload"])["messaging_service_sid"] == "MG22222222222222222222222222222222"


def test_sms_duplicate_delivery_is_acknowledged_once(client, services):
    pairs = load_form("sms_basic")
    first = post_twilio(client, SMS, pairs)
    second = post_twilio(client, SMS, pairs)
    assert first.status_code == second.status_code == 200
    assert second.text == EMPTY_TWIML
    assert len(inbox(services)) == 1


def test_sms_to_unknown_number_is_logged_no_op(client, services, caplog):
    caplog.set_level("INFO")
    resp = post_twilio(client, SMS, load_form("sms_basic", To="+16175559999"))
    assert resp.status_code == 200 and resp.text == EMPTY_TWIML
    assert inbox(services) == []
    assert "no configured mailbox" in caplog.text


@pytest.mark.parametrize("sender", ["anonymous", "unknown", "12345", "+", ""], ids=["anonymous", "unknown", "short-code", "plus", "empty"])
def test_sms_from_odd_sender_is_logged_no_op(client, services, sender, caplog):
    caplog.set_level("INFO")
    resp = post_twilio(client, SMS, load_form("sms_basic", From=sender))
    if sender == "":
        assert resp.status_code == 422 and "From" in resp.json["description"]
    else:
        assert resp.status_code == 200 and resp.text == EMPTY_TWIML
        assert "not a phone number" in caplog.text
    assert inbox(services) == []


def test_sms_empty_body_without_media_is_ignored(client, services):
    resp = post_twilio(client, SMS, load_form("sms_basic", Body="   "))
    assert resp.status_code == 200
    assert inbox(services) == []


@pytest.mark.parametrize("field", ["MessageSid", "From", "To", "AccountSid"])
def test_sms_missing_field_is_422_naming_it(client, services, field):
    resp = post_twilio(client, SMS, load_form("sms_basic", **{field: None}))
    assert resp.status_code == 422
    assert field in resp.json["description"]
    assert "Traceback" not in resp.text
    assert inbox(services) == []


def test_sms_bad_sid_is_422(client):
    resp = post_twilio(client, SMS, load_form("sms_basic", MessageSid="SM123"))
    assert resp.status_code == 422 and "MessageSid" in resp.json["description"]


def test_sms_bad_num_media_is_422(client):
    resp = post_twilio(client, SMS, load_form("sms_basic", NumMedia="lots"))
    assert resp.status_code == 422 and "NumMedia" in resp.json["description"]


def test_sms_mms_media_collected(client, services):
    post_twilio(client, SMS, load_form("sms_mms"))
    payload = json.loads(inbox(services)[0]["payload"])
    assert [m["content_type"] for m in payload["media"]] == ["image/jpeg", "application/pdf"]
    assert payload["media"][0]["url"].endswith("/Media/ME33333333333333333333333333333333")


def test_oversize_body_is_413(client, services):
    pairs = load_form("sms_basic", Body="x" * 300_000)
    resp = post_twilio(client, SMS, pairs)
    assert resp.status_code == 413
    assert inbox(services) == []


def test_non_utf8_body_is_refused(client, services):
    resp = client.simulate_post(SMS, body=b"Body=\xff\xfe", content_type=falcon.MEDIA_URLENCODED,
                                headers={"X-Twilio-Signature": "x"})
    assert resp.status_code in (400, 403)
    assert inbox(services) == []


def test_get_on_post_route_is_405(client):
    assert client.simulate_get(SMS).status_code == 405


def test_unknown_path_is_404(client):
    assert client.simulate_post("/bling/nothing").status_code == 404


def test_store_failure_answers_503_so_twilio_falls_back(client, services, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services.store, "accept", broken)
    resp = post_twilio(client, SMS, load_form("sms_basic"))
    assert resp.status_code == 503
    assert "Traceback" not in resp.text and "disk full" not in resp.text


def test_accept_is_one_write(client, services):
    """One durable write per accepted webhook: the inbox INSERT is the queue entry too.

    Statements are counted at the driver (the accept runs its INSERT on the
    driver's own cursor, below SQLAlchemy's events). Planted bug it catches:
    a second write (a separate queue table, a wake-up row) in the accept path."""
    import sqlalchemy as sa

    writes = []

    def note(statement):
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement.split()[0:3])

    def instrument(dbapi_connection, _record):
        if hasattr(dbapi_connection, "set_trace_callback"):  # sqlite3: every statement it runs
            dbapi_connection.set_trace_callback(note)
        else:  # psycopg2: every cursor it hands out
            import psycopg2.extensions

            class Counting(psycopg2.extensions.cursor):
                def execute(self, query, vars=None):
                    note(query.decode() if isinstance(query, bytes) else query)
                    return super().execute(query, vars)

            dbapi_connection.cursor_factory = Counting

    engine = services.store.engine
    engine.dispose()  # every connection from here on is a new, instrumented one
    sa.event.listen(engine, "connect", instrument)
    try:
        assert post_twilio(client, SMS, load_form("sms_basic")).status_code == 200
    finally:
        sa.event.remove(engine, "connect", instrument)
    assert [w[:3] for w in writes] == [["INSERT", "INTO", "bling_inbox"]]


# -- Help Scout webhook -----------------------------------------------------


def test_helpscout_reply_accepted_with_204(client, services):
    resp = post_helpscout(client, HS, load_json("agent_reply_v2"))
    assert resp.status_code == 204
    (row,) = inbox(services)
    assert row["key"] == "helpscout:thread:90003"


def test_helpscout_bad_signature_is_401(client, services):
    resp = post_helpscout(client, HS, load_json("agent_reply_v2"), secret="wrong-secret")
    assert resp.status_code == 401
    assert inbox(services) == []


def test_helpscout_missing_signature_is_401(client, services):
    assert post_helpscout(client, HS, load_json("agent_reply_v2"), signature=None).status_code == 401


def test_helpscout_signature_is_over_raw_bytes(client, services):
    """Re-serialising the JSON (spacing) changes the bytes and must fail."""
    from bling.edge.verifiers import helpscout_signature
    from support import WEBHOOK_SECRET

    payload = load_json("agent_reply_v2")
    signature = helpscout_signature(WEBHOOK_SECRET, json.dumps(payload).encode())
    compact = json.dumps(payload, separators=(",", ":")).encode()
    assert post_helpscout(client, HS, compact, signature=signature).status_code == 401


def test_helpscout_malformed_json_is_400(client, services):
    resp = post_helpscout(client, HS, b'{"id": 5001, ')
    assert resp.status_code == 400
    assert resp.json["title"] == "Malformed JSON"


def test_helpscout_json_array_is_422(client, services):
    assert post_helpscout(client, HS, b"[1, 2]").status_code == 422


def test_helpscout_missing_mailbox_is_422_naming_it(client, services):
    payload = load_json("agent_reply_v2")
    del payload["mailboxId"]
    resp = post_helpscout(client, HS, payload)
    assert resp.status_code == 422 and "mailbox_id" in resp.json["description"]


@pytest.mark.parametrize("event", ["convo.customer.reply.created", "convo.note.created", "helpscout.test", ""])
def test_helpscout_other_events_ignored_with_2xx(client, services, event):
    resp = post_helpscout(client, HS, load_json("agent_reply_v2"), event=event)
    assert resp.status_code == 204
    assert inbox(services) == []


def test_helpscout_unconfigured_mailbox_ignored_with_2xx(client, services):
    payload = load_json("agent_reply_v2")
    payload["mailboxId"] = 999
    assert post_helpscout(client, HS, payload).status_code == 204
    assert inbox(services) == []


def test_helpscout_duplicate_delivery_is_stored_once(client, services):
    payload = load_json("agent_reply_v2")
    assert post_helpscout(client, HS, payload).status_code == 204
    assert post_helpscout(client, HS, payload).status_code == 204
    assert len(inbox(services)) == 1


def test_healthz_answers_json(client, services):
    post_twilio(client, SMS, load_form("sms_basic"))
    resp = client.simulate_get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok" and resp.json["store"] == "ok"
    assert resp.json["pending"] == 1 and resp.json["dead_letters"] == 0
    assert resp.json["counters"]["webhook:/bling/twilio_sms:accepted"] == 1


def test_healthz_unhealthy_store_is_503(client, services, monkeypatch):
    def broken():
        raise OSError("gone")

    monkeypatch.setattr(services.store, "ping", broken)
    resp = client.simulate_get("/healthz")
    assert resp.status_code == 503 and resp.json["status"] == "unhealthy"


def test_account_sid_fixture_is_the_test_account():
    assert ACCOUNT_SID.startswith("AC") and HOTLINE.startswith("+1")


def test_sms_signed_url_with_other_content_type_is_403(client, services):
    """A body the signature does not cover (not form, no bodySHA256) is refused."""
    pairs = load_form("sms_basic")
    signature = twilio_signature(PUBLIC_URL + SMS, [])
    from urllib.parse import urlencode

    resp = client.simulate_post(SMS, body=urlencode(pairs), content_type="text/plain",
                                headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403
    assert inbox(services) == []
