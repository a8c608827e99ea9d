"""Guard: no cassette may hold a real credential, token or real-looking account."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

CASSETTES = sorted((pathlib.Path(__file__).resolve().parent.parent / "cassettes").rglob("*.yaml"))
FAKE_ACCOUNT = "AC00000000000000000000000000000000"


def test_there_are_cassettes():
    assert len(CASSETTES) > 30


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_is_scrubbed(path):
    text = path.read_text()
    for account in re.findall(r"AC[0-9a-f]{32}", text):
        assert account == FAKE_ACCOUNT, f"{path}: real-looking account SID {account}"
    assert not re.search(r"(?i)authorization:", text), f"{path}: an Authorization header was recorded"
    assert "client_secret" not in text and "test-client-secret" not in text, f"{path}: the Help Scout secret"
    assert "0123456789abcdef0123456789abcdef" not in text, f"{path}: the Twilio auth token"


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_shapes_are_faithful(path):
    """Help Scout creates answer 201 with an empty body and Resource-ID; errors are JSON."""
    data = yaml.safe_load(path.read_text())
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        status = response["status"]["code"]
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        body = (response.get("body") or {}).get("string", "")
        if "api.helpscout.net" in request["uri"] and request["method"] == "POST" and status == 201 \
                and "/oauth2/token" not in request["uri"]:
            assert body == "", f"{path}: Help Scout 201 has a body"
            if "/attachments" not in request["uri"]:
                assert "resource-id" in headers, f"{path}: Help Scout 201 without Resource-ID"
        if "api.twilio.com" in request["uri"] and status >= 400:
            assert '"code"' in body and '"status"' in body, f"{path}: Twilio error without code/status"


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_says_where_its_shapes_come_from(path):
    """Every cassette opens with a comment naming its source (and flagging [UNCONFIRMED] shapes).

    Planted bug: a cassette without a header (the 13 in test_twilio_api had none).
    """
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert header, f"{path}: start with a comment saying where the shapes come from (see tests/README.md)"
    assert re.search(r"\.md\b|reference|twilio-python|modelled|recorded|hand-written|authored", " ".join(header), re.I), \
        f"{path}: the header names no source (shared/docs/reference/…, twilio-python fixtures, MODELLED…)"
