"""The Help Scout sidebar widget (callback_widget): number + Call back link, or why not."""

from __future__ import annotations

import json
import re

import pytest

from bling_local_plugins.dialer import tokens
from dialer_support import (AGENT_USER, APP_SECRET, CONVERSATION, CONVERSATION_NUMBER, SECRET_KEY, app_payload,
                            dialer_env, link_token)
from support import MAILBOX_ID, OTHER_MAILBOX_ID, PUBLIC_URL, SUPPORTER, post_helpscout

APP = "/bling/helpscout_app"
ALLOWED_TAGS = {"h4", "ul", "li", "span", "a"}
ALLOWED_CLASSES = {"c-sb-list", "c-sb-list--two-line", "c-sb-list-item", "c-sb-list-item__label",
                   "c-sb-list-item__text"}


@pytest.fixture
def env(store_url):
    return dialer_env(store_url)


def ask(client, payload, **kwargs):
    return post_helpscout(client, APP, payload, event=None, secret=APP_SECRET, **kwargs)


def widget_html(resp) -> str:
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    (html,) = resp.json.values()  # exactly {"html": …}
    assert set(resp.json) == {"html"}
    assert set(re.findall(r"<([a-z0-9]+)", html)) <= ALLOWED_TAGS  # no script, no style, no button
    assert "style=" not in html and not re.search(r"\son\w+=", html)
    for classes in re.findall(r'class="([^"]*)"', html):
        assert set(classes.split()) <= ALLOWED_CLASSES
    return html


def only_link(html: str) -> str:
    (link,) = re.findall(r'<a href="([^"]+)">Call back</a>', html)
    return link.replace("&amp;", "&")


def test_blackhole_customer_gets_number_and_call_back_link(client, services):
    html = widget_html(ask(client, app_payload()))
    assert "(617) 555-0123" in html
    link = only_link(html)
    assert link.startswith(f"{PUBLIC_URL}/bling/dialer?t=")
    claims = tokens.check(SECRET_KEY, link_token(link), services.store.clock())
    assert (claims.conversation_id, claims.conversation_number, claims.mailbox_id, claims.supporter, claims.user_id) == \
        (CONVERSATION, CONVERSATION_NUMBER, MAILBOX_ID, SUPPORTER, AGENT_USER)
    assert claims.agent_name == "Jane Agent"
    assert claims.expires_at - claims.issued_at == 3600
    assert "works for 60 minutes" in html


def test_customer_with_only_a_phone_is_callable(client, services):
    customer = {"id": 556, "email": None, "emails": [], "phone": "(617) 555-0124"}
    html = widget_html(ask(client, app_payload(customer=customer)))
    assert "(617) 555-0124" in html
    assert tokens.read(SECRET_KEY, link_token(only_link(html))).supporter == "+16175550124"


def test_international_supporter_keeps_the_country_code(client, services):
    customer = {"id": 557, "emails": ["00447911123456@blackhole.example.org"]}
    html = widget_html(ask(client, app_payload(customer=customer)))
    assert "+44 7911 123456" in html
    assert tokens.read(SECRET_KEY, link_token(only_link(html))).supporter == "+447911123456"


def test_fields_help_scout_left_out_are_tolerated(client, services):
    """Help Scout removes fields without a value (no fname/lname, no number)."""
    payload = app_payload(ticket={"id": CONVERSATION}, user={"id": AGENT_USER},
                          customer={"id": 555, "emails": ["6175550123@blackhole.example.org"]})
    claims = tokens.read(SECRET_KEY, link_token(only_link(widget_html(ask(client, payload)))))
    assert claims.agent_name == f"Help Scout user {AGENT_USER}" and claims.conversation_number is None


@pytest.mark.parametrize("changes, words", [
    ({"customer": {"id": 3, "fname": "", "lname": "", "email": "voter@example.com", "emails": ["voter@example.com"]}},
     "No phone number for this customer"),
    ({"ticket": False}, "Save this conversation first"),
    ({"user": {"fname": "Jane", "lname": "Agent"}}, "did not say which agent"),
    ({"customer": {"id": 4, "phone": "+19005550123"}}, "premium-rate"),
    ({"customer": {"id": 5, "emails": ["4532123456@blackhole.example.org"]}}, "not a valid phone number"),
    ({"mailbox": {"id": 999999, "email": "other@example.org"}}, "does not serve this mailbox"),
])
def test_nothing_to_call_says_why_in_one_line(client, services, changes, words):
    html = widget_html(ask(client, app_payload(**changes)))
    assert words in html and "Call back</a>" not in html and html.count("<li") == 1


def test_second_hotline_mailbox_works_too(client, services):
    payload = app_payload(mailbox={"id": OTHER_MAILBOX_ID, "email": "uk@example.org"})
    claims = tokens.read(SECRET_KEY, link_token(only_link(widget_html(ask(client, payload)))))
    assert claims.mailbox_id == OTHER_MAILBOX_ID


def test_markup_is_escaped(client, services):
    payload = app_payload(user={"id": AGENT_USER, "fname": "<script>alert(1)</script>"})
    html = widget_html(ask(client, payload))
    assert "<script" not in html  # the name is only inside the signed token, never shown raw


def test_bad_signature_is_401_and_no_link(client, services):
    resp = ask(client, app_payload(), signature="bm90IGEgc2lnbmF0dXJl")
    assert resp.status_code == 401 and "dialer" not in resp.text


def test_webhook_secret_does_not_sign_the_app(client, services):
    resp = post_helpscout(client, APP, app_payload(), event=None)  # signed with HELPSCOUT_WEBHOOK_SECRET
    assert resp.status_code == 401


def test_tampered_body_is_401(client, services):
    from bling.edge.verifiers import helpscout_signature

    body = json.dumps(app_payload()).encode()
    signature = helpscout_signature(APP_SECRET, body)
    tampered = body.replace(b"6175550123@", b"6175550999@")
    resp = client.simulate_post(APP, body=tampered, content_type="application/json",
                                headers={"X-HELPSCOUT-SIGNATURE": signature})
    assert resp.status_code == 401


class TestWithoutSecrets:
    @pytest.fixture
    def env(self, store_url):
        return dialer_env(store_url, HELPSCOUT_APP_SECRET=None, BLING_SECRET_KEY=None)

    def test_unset_app_secret_refuses_everything(self, client, services):
        """An empty key would let anyone sign: every request is refused instead."""
        from bling.edge.verifiers import helpscout_signature

        body = json.dumps(app_payload()).encode()
        resp = client.simulate_post(APP, body=body, content_type="application/json",
                                    headers={"X-HelpScout-Signature": helpscout_signature("", body)})
        assert resp.status_code == 401


def test_unset_secret_key_turns_call_back_off(store_url):
    import falcon.testing

    from bling.edge.app import create_app
    from bling.services import build_services
    from bling.config.settings import load_settings

    services = build_services(load_settings(dialer_env(store_url, BLING_SECRET_KEY=None)),
                              entry_points=False)
    try:
        html = widget_html(ask(falcon.testing.TestClient(create_app(services)), app_payload()))
        assert "BLING_SECRET_KEY is not set" in html and "Call back</a>" not in html
    finally:
        services.store.close()
