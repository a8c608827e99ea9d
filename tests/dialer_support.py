"""Helpers for the Call back tests: settings, the widget payload, the page, Twilio's legs."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import falcon

from bling_local_plugins.dialer import tokens
from support import HOTLINE, MAILBOX_ID, PUBLIC_URL, SUPPORTER, load_form, make_env, post_twilio

SECRET_KEY = "test-dialer-secret-key-not-for-production-0123456789"
APP_SECRET = "test-sidebar-app-secret"
AGENT = "+16175550199"
AGENT_USER = 77
CONVERSATION = 5002
CONVERSATION_NUMBER = 4002
AGENT_SID = "CA" + "d1" * 16
SUPPORTER_SID = "CA" + "d2" * 16


def dialer_env(store_url: str, **overrides: str) -> dict[str, str]:
    """The test environment with the dialer turned on."""
    return make_env(store_url, **{"BLING_SECRET_KEY": SECRET_KEY, "HELPSCOUT_APP_SECRET": APP_SECRET, **overrides})


def app_payload(**changes) -> dict:
    """The legacy dynamic app POST (helpscout.md §7.1): a customer known only by e-mails."""
    payload = {"ticket": {"id": CONVERSATION, "number": CONVERSATION_NUMBER, "subject": "SMS from (617) 555-0123"},
               "customer": {"id": 555, "fname": "", "lname": "", "email": "6175550123@blackhole.example.org",
                            "emails": ["6175550123@blackhole.example.org"]},
               "user": {"fname": "Jane", "lname": "Agent", "id": AGENT_USER, "role": "user", "convRedirect": 0},
               "mailbox": {"id": MAILBOX_ID, "email": "hotline@example.org"}}
    payload.update(changes)
    return payload


def token_for(services, supporter: str = SUPPORTER, mailbox_id: int = MAILBOX_ID, lifetime: int = 3600,
              conversation_id: int = CONVERSATION, user_id: int = AGENT_USER) -> str:
    """A token as the widget issues it, at the store's (fake) time."""
    return tokens.issue(SECRET_KEY, conversation_id=conversation_id, conversation_number=CONVERSATION_NUMBER,
                        mailbox_id=mailbox_id, supporter=supporter, user_id=user_id, agent_name="Jane Agent",
                        now=services.store.clock(), lifetime=lifetime)


def link_token(link: str) -> str:
    """The token of a dialer link."""
    return parse_qs(urlsplit(link).query)["t"][0]


def page_config(html: str) -> dict:
    """The JSON the page hands its script (token, CSRF value, URLs)."""
    match = re.search(r'<script type="application/json" id="dialer-config">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def open_page(client, token: str):
    """GET the dialer page; return (response, its CSRF value or None)."""
    resp = client.simulate_get("/bling/dialer", params={"t": token})
    return resp, (page_config(resp.text)["csrf"] if resp.status_code == 200 else None)


def page_post(client, path: str, token: str, csrf: str | None, body: dict, origin: str | None = PUBLIC_URL,
              headers: dict | None = None, content_type: str = falcon.MEDIA_JSON):
    """POST as the page's script does (same origin, token and CSRF headers, JSON)."""
    sent = {"X-Bling-Token": token, "Sec-Fetch-Site": "same-origin"}
    if csrf is not None:
        sent["X-Bling-CSRF"] = csrf
    if origin is not None:
        sent["Origin"] = origin
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v is not None}
    return client.simulate_post(path, body=json.dumps(body), content_type=content_type, headers=sent)


def dial(client, token: str, csrf: str | None, phone: str = AGENT, **kwargs):
    return page_post(client, "/bling/dialer/call", token, csrf, {"phone": phone}, **kwargs)


def status(client, token: str, call_id: str):
    return client.simulate_get("/bling/dialer/status", params={"call": call_id}, headers={"X-Bling-Token": token})


def twilio_leg(client, path: str, call_id: str, fixture: str, leg: str | None = None, signature: str = "auto",
               **fields: str):
    """A signed Twilio request about one call (its id and leg in the query Bling gave Twilio)."""
    query = f"call={call_id}" + (f"&leg={leg}" if leg else "")
    return post_twilio(client, path, load_form(fixture, **fields), signature=signature, query=query)


def agent_status(client, call_id: str, status_: str, **fields: str):
    return twilio_leg(client, "/bling/dialer/call_status", call_id, "dialer_agent_status", leg="agent",
                      CallStatus=status_, **fields)


def supporter_status(client, call_id: str, status_: str, **fields: str):
    return twilio_leg(client, "/bling/dialer/call_status", call_id, "dialer_supporter_status", leg="supporter",
                      CallStatus=status_, **fields)


__all__ = ["HOTLINE", "MAILBOX_ID", "PUBLIC_URL", "SUPPORTER"]
