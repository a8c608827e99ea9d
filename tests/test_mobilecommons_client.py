"""The Mobile Commons client: send, list received (paged), read a profile, typed errors.

Cassettes are modelled from plugins/mobilecommons/shapes.py, not recorded.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from bling_local_plugins.mobilecommons import shapes
from bling.errors import AmbiguousOutcome, TransportError
from bling_local_plugins.mobilecommons.client import (MobileCommonsAmbiguous, MobileCommonsAuthError, MobileCommonsClient,
                                 MobileCommonsInvalidCampaign, MobileCommonsInvalidPhone, MobileCommonsOptedOut,
                                 MobileCommonsRefused, MobileCommonsTransient, _refusal)
from support import FIXTURES

PASSWORD = "test-mc-password"
SINCE = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)
UNTIL = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
#: shared/seed/sample_mobile_commons_profile.json: a profile as the original Bling parsed it.
SAMPLE = os.path.join(FIXTURES, "mobilecommons", "sample_profile.json")


@pytest.fixture
def mc():
    return MobileCommonsClient("bling-test", PASSWORD)


@pytest.mark.vcr
def test_send_message_returns_the_queued_message(mc, vcr):
    sent = mc.send_message("189358", "+16175550123", "Thanks! We got it.")
    assert sent == shapes.SentMessage("7400000001", "queued")
    assert vcr.all_played
    assert mc.session.auth == ("bling-test", PASSWORD)  # HTTP basic auth on every call


@pytest.mark.vcr
def test_received_messages_follow_every_page(mc, vcr):
    pages = []
    messages = list(mc.received_messages(SINCE, UNTIL, limit=2, on_page=lambda n, of: pages.append((n, of))))
    assert pages == [(1, 2), (2, 2)]
    assert [(m.id, m.phone, m.campaign_id, m.message_type) for m in messages] == [
        ("1338800201", "+16175550123", "189358", "reply"),
        ("1338800202", "+447700900123", "189358", "reply"),
        ("1338800203", "+16175550124", "999999", "opt_in")]
    assert messages[0].received_at == datetime(2026, 11, 25, 11, 5, tzinfo=timezone.utc)
    assert messages[0].body == "Hi, I need help with my ballot" and messages[0].profile_id == "345213473"
    assert vcr.all_played


@pytest.mark.vcr
def test_received_messages_without_page_count_stop_at_a_short_page(mc, vcr):
    messages = list(mc.received_messages(SINCE, UNTIL, limit=2))
    assert [m.id for m in messages] == ["1338800201"]
    assert vcr.all_played  # no second page was asked for


@pytest.mark.vcr
def test_profile_reads_like_the_original_parsed_it(mc, vcr):
    profile = mc.profile("+15555555555", include_messages=True)
    with open(SAMPLE) as handle:
        sample = json.load(handle)
    assert profile.id == sample["id"] and profile.first_name == sample["first_name"]
    assert profile.phone == "+15555555555" and profile.campaign_ids == {"189358"}
    assert {m.id for m in profile.messages} == {m["id"] for m in sample["messages"]["message"]}
    assert profile.custom_fields["donation_hpc"] == "12345" and profile.custom_fields["SC_Vol_Ask"] is None
    sent = [m for m in profile.messages if m.outgoing]
    assert [m.body for m in sent] == [sample["messages"]["message"][0]["body"], "hello"]
    assert vcr.all_played


@pytest.mark.vcr
def test_invalid_phone_error_document_is_a_typed_refusal(mc, vcr):
    with pytest.raises(MobileCommonsInvalidPhone) as caught:
        mc.send_message("189358", "+16175550123", "Thanks! We got it.")
    error = caught.value
    assert isinstance(error, TransportError) and error.permanent and error.code == 5
    assert error.explanation == "Mobile Commons cannot text the supporter's phone number"
    assert vcr.all_played


@pytest.mark.parametrize("code, kind", [(4, MobileCommonsInvalidCampaign), (5, MobileCommonsInvalidPhone),
                                        (6, MobileCommonsOptedOut), (17, MobileCommonsRefused)])
def test_error_ids_map_to_classes(code, kind):
    root = shapes.parse(shapes.EXAMPLE_ERROR.format(code=code, message="Message body is too long"))
    error = _refusal("Mobile Commons POST send_message", shapes.api_error(root), 200)
    assert type(error) is kind and error.permanent and error.code == code
    if kind is MobileCommonsRefused:  # an unknown id is explained with the server's own words
        assert error.explanation == "Mobile Commons refused the text: Message body is too long"


@pytest.mark.vcr
def test_refused_credentials_keep_the_job_and_hide_the_password(mc, vcr):
    with pytest.raises(MobileCommonsAuthError) as caught:
        mc.profile("+16175550123")
    assert caught.value.permanent is False
    assert "MOBILECOMMONS_USERNAME" in str(caught.value) and PASSWORD not in str(caught.value)


@pytest.mark.vcr
def test_server_error_on_send_is_ambiguous(mc, vcr):
    with pytest.raises(MobileCommonsAmbiguous) as caught:
        mc.send_message("189358", "+16175550123", "Thanks! We got it.")
    assert isinstance(caught.value, AmbiguousOutcome) and caught.value.permanent is False


@pytest.mark.vcr
def test_maintenance_page_on_read_is_transient_not_ambiguous(mc, vcr):
    with pytest.raises(MobileCommonsTransient) as caught:
        list(mc.received_messages(SINCE, UNTIL))
    assert not isinstance(caught.value, AmbiguousOutcome)
    assert "expected a <response> document, got <html>" in str(caught.value)


def test_unsafe_xml_is_refused():
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            '<response success="true"><messages page="1">&b;</messages></response>')
    with pytest.raises(shapes.ShapeError, match="unsafe XML"):
        shapes.parse(bomb)


def test_a_document_that_is_not_a_response_is_refused():
    with pytest.raises(shapes.ShapeError, match="<html>"):
        shapes.parse("<html><body>Down for maintenance</body></html>")


@pytest.mark.parametrize("raw, e164", [("16175550123", "+16175550123"), ("+16175550123", "+16175550123"),
                                       ("6175550123", "+16175550123"), ("447700900123", "+447700900123"),
                                       ("", None), ("short", None)])
def test_phones_in_mobile_commons_form(raw, e164):
    assert shapes.phone_from(raw) == e164


def test_profile_fixture_is_the_sample():
    """The modelled profile XML carries every value of the seed's parsed profile."""
    with open(os.path.join(FIXTURES, "mobilecommons", "profile_sample.xml"), "rb") as handle:
        profile = shapes.profile(shapes.parse(handle.read()))
    with open(SAMPLE) as handle:
        sample = json.load(handle)
    assert (profile.last_name, profile.email, profile.status) == (sample["last_name"], sample["email"], sample["status"])
    columns = {c["name"]: c.get("value") for c in sample["custom_columns"]["custom_column"]}
    assert profile.custom_fields == columns
