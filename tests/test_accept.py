"""bling/routing/accept.py: the one way in, whichever door an event comes through (HTTP, a loader, reconcile)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone

import pytest

from bling.errors import ConfigError
from bling.routing.accept import ACCEPTED, ADMITTED, DUPLICATE, IGNORED, INVALID, NotRecorded, accept
from bling_local_plugins.sms.reconcile import reconcile
from support import HOTLINE, load_form, post_twilio

SID = "SM" + "5" * 32


def form(**overrides) -> dict:
    return dict(load_form("sms_basic", **{"MessageSid": SID, **overrides}))


def accept_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bling.accept"]


def test_accepted_then_duplicate_one_row_one_line_each(services, caplog):
    caplog.set_level(logging.DEBUG, "bling.accept")
    first = accept(services, "twilio-sms", form(), via="test", accepted_level=logging.INFO)
    assert (first.status, first.key) == (ACCEPTED, f"twilio:sms:{SID}") and first.inbox_id is not None
    assert first.mailbox.number == HOTLINE and first.event["from_"] == "+16175550123"
    again = accept(services, "twilio-sms", form(), via="test")
    assert (again.status, again.inbox_id) == (DUPLICATE, first.inbox_id)
    (row,) = services.store.rows()
    assert (row["key"], row["route"], row["lane"]) == (f"twilio:sms:{SID}", "/bling/twilio_sms", "helpscout")
    lines = [(r.levelname, r.getMessage()) for r in accept_lines(caplog)]
    assert lines == [("INFO", f"accepted /bling/twilio_sms event twilio:sms:{SID} (via test)"),
                     ("INFO", f"duplicate delivery of twilio:sms:{SID} ignored (/bling/twilio_sms, via test)")]


def test_triage_and_the_mailbox_decide_before_anything_is_recorded(services, caplog):
    caplog.set_level(logging.INFO, "bling.accept")
    short_code = accept(services, "twilio-sms", form(From="22395"), via="test")
    assert short_code.status == IGNORED and "not a phone number" in short_code.reason
    elsewhere = accept(services, "twilio-sms", form(To="+15005550006"), via="test")
    assert (elsewhere.status, elsewhere.reason, elsewhere.mailbox) == (IGNORED, "no configured mailbox for this event", None)
    assert services.store.rows() == []
    assert [r.getMessage().split(":")[0] for r in accept_lines(caplog)] == [
        "ignored /bling/twilio_sms event twilio",  # one line each, naming the key
        "ignored /bling/twilio_sms event twilio"]


def test_an_invalid_payload_names_its_field_and_a_loaders_is_a_warning(services, caplog):
    caplog.set_level(logging.INFO, "bling.accept")
    bad = accept(services, "twilio-sms", form(MessageSid="nope"), via="reconcile")
    assert bad.status == INVALID and "MessageSid" in bad.errors
    nul = accept(services, "twilio-sms", form(Body="a\x00b"), via="http")
    assert nul.status == INVALID and nul.errors == {"Body": ["contains a NUL character"]}
    assert [(r.levelname, "MessageSid" in r.getMessage()) for r in accept_lines(caplog)] == [
        ("WARNING", True), ("INFO", False)]  # the HTTP sender is told by its 422
    assert services.store.rows() == []


def test_an_unknown_route_name_names_the_file_and_the_known_names(services):
    with pytest.raises(ConfigError, match=r"routes.toml: no route named 'twilio_sms' \(known: .*twilio-sms"):
        accept(services, "twilio_sms", form(), via="test")


def test_check_first_finds_a_duplicate_without_completing_or_triaging(services):
    assert accept(services, "twilio-sms", form(), via="test").status == ACCEPTED

    def complete(_payload):
        raise AssertionError("complete() ran for a text the inbox holds (an API call wasted)")

    outcome = accept(services, "twilio-sms", form(), via="test", check_first=True, complete=complete)
    assert (outcome.status, outcome.context) == (DUPLICATE, None)  # no context: triage never ran


def test_complete_adds_to_a_new_event_and_the_schema_loads_it_again(services):
    def complete(payload):
        return {**payload, "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/ME1", "MediaContentType0": "image/png"}

    outcome = accept(services, "twilio-sms", form(Body=""), via="test", complete=complete)
    assert outcome.status == ACCEPTED  # an empty text with media passes triage, so media were loaded before it
    assert outcome.event["media"] == [{"url": "https://api.twilio.com/m/ME1", "content_type": "image/png"}]


def test_a_store_failure_raises_not_recorded(services, caplog):
    class BrokenStore:
        def __getattr__(self, name):
            return getattr(services.store, name)

        def accept(self, *args, **kwargs):
            raise OSError("disk full")

    broken = dataclasses.replace(services, store=BrokenStore())
    with pytest.raises(NotRecorded, match="/bling/twilio_sms: event twilio:sms:SM5+ could not be recorded"):
        accept(broken, "twilio-sms", form(), via="test")
    assert any("could not record" in r.getMessage() for r in accept_lines(caplog))


def test_a_route_that_answers_in_the_request_records_nothing(services):
    outcome = accept(services, "twilio-sms-fallback", form(), via="test")
    assert outcome.status == ADMITTED and outcome.context is not None and outcome.key is None
    assert services.store.rows() == []


def test_http_and_accept_agree_on_a_duplicate(client, services):
    """A text reconciled first and then delivered by its late webhook is one row (and the reverse)."""
    assert accept(services, "twilio-sms", form(), via="test").status == ACCEPTED
    assert post_twilio(client, "/bling/twilio_sms", list(form().items())).status_code == 200
    assert len(services.store.rows()) == 1
    assert services.metrics.snapshot().get("webhook:/bling/twilio_sms:duplicate") == 1


class ListingTwilio:
    """Twilio's list of received texts, as reconcile reads it (two old enough to reconcile)."""

    def list_inbound(self, number, since):
        if number != HOTLINE:
            return []
        when = datetime(2026, 11, 25, 10, 30, tzinfo=timezone.utc)
        return [{"sid": "SM" + "6" * 32, "from": "22395", "to": HOTLINE, "body": "Your code is 1234", "num_media": 0,
                 "date_sent": when},
                {"sid": "SM" + "7" * 32, "from": "+16175550124", "to": HOTLINE, "body": "hello", "num_media": 0,
                 "date_sent": when}]

    def list_media(self, sid):
        raise AssertionError("no text here has media")


def test_reconcile_runs_the_routes_triage(services):
    """Planted bug it catches: reconcile built the event by hand and skipped triage, so a short code's
    text (which the webhook ignores) became a job the SMS chain could not answer."""
    counts = reconcile(dataclasses.replace(services, twilio=ListingTwilio()),
                       since=datetime(2026, 11, 25, 10, tzinfo=timezone.utc),
                       now=datetime(2026, 11, 25, 12, tzinfo=timezone.utc))
    assert counts == {"seen": 2, "ingested": 1, "already": 0, "ignored": 1, "invalid": 0}
    assert [r["key"] for r in services.store.rows()] == ["twilio:sms:SM" + "7" * 32]
