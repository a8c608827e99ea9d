"""The dialer page (dialer_page): a clear page for good links, and for bad ones."""

from __future__ import annotations

import re

import pytest

from dialer_support import SECRET_KEY, dialer_env, open_page, page_config, token_for
from support import OTHER_MAILBOX_ID


@pytest.fixture
def env(store_url):
    return dialer_env(store_url)


def test_page_shows_whom_you_call_and_is_locked_down(client, services):
    token = token_for(services)
    resp, csrf = open_page(client, token)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "(617) 555-0123" in html and "conversation #4002" in html and "(617) 555-0100" in html
    assert '<label for="agent-phone">' in html and 'id="agent-phone"' in html and 'type="tel"' in html
    assert 'role="status" aria-live="polite"' in html and 'id="cancel"' in html and '<html lang="en">' in html
    assert 'name="viewport"' in html
    config = page_config(html)
    assert config["token"] == token and csrf and config["callUrl"] == "/bling/dialer/call"
    (nonce,) = set(re.findall(r'nonce="([^"]+)"', html))
    policy = resp.headers["content-security-policy"]
    assert f"script-src 'nonce-{nonce}'" in policy and "default-src 'none'" in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert resp.headers["cache-control"] == "no-store" and resp.headers["referrer-policy"] == "same-origin"
    assert resp.headers["x-frame-options"] == "DENY"
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers: CSP would block them anyway


def test_each_page_load_gets_a_fresh_csrf_value(client, services):
    token = token_for(services)
    assert open_page(client, token)[1] != open_page(client, token)[1]


def test_expired_link_gets_a_page_saying_so(client, services, clock):
    token = token_for(services)
    clock.advance(3600)
    resp, _ = open_page(client, token)
    assert resp.status_code == 410 and resp.headers["content-type"].startswith("text/html")
    assert "This link has expired" in resp.text and "Open Call back again" in resp.text
    assert 'id="dial-form"' not in resp.text and "dialer-config" not in resp.text


@pytest.mark.parametrize("mangle", [lambda t: t[:-4] + "AAAA", lambda t: t[:20], lambda t: t[:30] + "x" + t[30:]])
def test_altered_link_gets_a_page_saying_so(client, services, mangle):
    resp, _ = open_page(client, mangle(token_for(services)))
    assert resp.status_code == 403 and "This link is not valid" in resp.text and 'id="dial-form"' not in resp.text
    assert "default-src 'none'" in resp.headers["content-security-policy"]


def test_link_signed_with_another_key_is_refused(client, services):
    from bling_local_plugins.dialer import tokens

    forged = tokens.issue("an-attackers-key-that-is-long-enough-000", conversation_id=1, conversation_number=1,
                          mailbox_id=206906, supporter="+19005550123", user_id=1, agent_name="x",
                          now=services.store.clock(), lifetime=86400)
    resp, _ = open_page(client, forged)
    assert resp.status_code == 403 and "not valid" in resp.text


def test_link_without_token_says_so(client, services):
    resp = client.simulate_get("/bling/dialer")
    assert resp.status_code == 403 and "no call-back token" in resp.text


def test_token_for_a_mailbox_bling_no_longer_serves(client, services):
    resp, _ = open_page(client, token_for(services, mailbox_id=999999))
    assert resp.status_code == 410 and "no longer serves" in resp.text


def test_second_hotline_page_names_its_own_number(client, services):
    resp, _ = open_page(client, token_for(services, mailbox_id=OTHER_MAILBOX_ID))
    assert resp.status_code == 200 and "+44 20 7183 8750" in resp.text and "+44 7400 123456" in resp.text


def test_page_is_get_only(client, services):
    resp = client.simulate_post("/bling/dialer", params={"t": token_for(services)})
    assert resp.status_code == 405


class TestDisabled:
    @pytest.fixture
    def env(self, store_url):
        return dialer_env(store_url, BLING_SECRET_KEY=None)

    def test_without_secret_key_the_dialer_is_off(self, client, services):
        from bling_local_plugins.dialer import tokens

        token = tokens.issue(SECRET_KEY, conversation_id=1, conversation_number=1, mailbox_id=206906,
                             supporter="+16175550123", user_id=1, agent_name="x", now=services.store.clock(), lifetime=60)
        resp, _ = open_page(client, token)
        assert resp.status_code == 503 and "BLING_SECRET_KEY is not set" in resp.text
