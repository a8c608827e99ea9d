"""Helpers for the call tests: Twilio's call requests, TwiML parsing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

from support import HOTLINE, PUBLIC_URL, SUPPORTER, load_form, post_twilio

ACCOUNT = "AC00000000000000000000000000000000"
CALL_SID = "CA" + "3" * 32
LEG_SID = "CA" + "4" * 32  # the ring-group leg that answered
RECORDING_SID = "RE" + "5" * 32
TRANSCRIPTION_SID = "TR" + "6" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING_SID}"
AGENT = "+16175550101"
AGENT_2 = "+16175550102"
EMAIL = "6175550123@blackhole.example.org"
CALLER_QUERY = f"caller={quote(SUPPORTER)}&hotline={quote(HOTLINE)}"
RING_CONFIG = f'[mailboxes.206906]\nring = ["{AGENT}", "{AGENT_2}"]\n'


def twiml(resp) -> ET.Element:
    """The answer as parsed TwiML; it must be a 200 text/xml <Response>."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(resp.text)
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def url(path: str, query: str = "") -> str:
    """The absolute URL Bling names in its TwiML for ``path`` (BLING_PUBLIC_URL + path + query)."""
    return PUBLIC_URL + path + (f"?{query}" if query else "")


def call(client, path: str, fixture: str = "voice_incoming", query: str = "", **overrides):
    """POST one of Twilio's call requests, signed like Twilio signs it."""
    return post_twilio(client, path, load_form(fixture, **overrides), query=query)


def follow(client, url: str, fixture: str, **overrides):
    """POST to an absolute URL Bling put in its TwiML, the way Twilio follows it."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, url
    return post_twilio(client, parts.path, load_form(fixture, **overrides), query=parts.query)
