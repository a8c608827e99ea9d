"""TwilioGateway against hand-authored cassettes of Twilio's Messages API.

POST tests match on the exact form body (``raw_body``), so a cassette only plays
when the gateway sent precisely the recorded request.
"""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest
import requests
from requests.adapters import HTTPAdapter
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from bling.errors import AmbiguousOutcome
from bling.clients.twilio_api import (
    DEFAULT_BASE_URL,
    TwilioAmbiguous,
    TwilioGateway,
    TwilioSendError,
    TwilioTransient,
    explain_error,
)

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # fake; the Authorization header is filtered
HOTLINE = "+15005550006"
SUPPORTER = "+14155550100"
STATUS_CALLBACK = "https://hotline.example.com/twilio/sms-status"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SENT_AT = datetime(2026, 11, 25, 12, 30, 0, tzinfo=timezone.utc)

REPLY = "Hi there,\n\nThanks & bye"
LOCAL_DOUBLE = "http://127.0.0.1:8999"

exact_body = pytest.mark.vcr(
    match_on=["method", "scheme", "host", "port", "path", "query", "raw_body"]
)


@pytest.fixture
def gateway():
    return TwilioGateway(ACCOUNT_SID, AUTH_TOKEN)


def sent_form(cassette, index=0):
    """The form fields of a request Bling sent (and the cassette answered), in order."""
    body = cassette.played_requests[index].body
    return parse_qsl(body.decode() if isinstance(body, bytes) else body, keep_blank_values=True)


def assert_no_secret(error):
    assert AUTH_TOKEN not in str(error)
    assert AUTH_TOKEN not in repr(error)
    assert AUTH_TOKEN not in error.explanation


# --- send_sms --------------------------------------------------------------------------------


@exact_body
def test_send_sms_returns_sid_and_posts_form(vcr, gateway):
    sid = gateway.send_sms(HOTLINE, SUPPORTER, REPLY, status_callback=STATUS_CALLBACK)

    assert sid == "SM5f1c1e3e9b7a4d0c8e2f6a1b3c5d7e90"
    assert vcr.play_count == 1 and vcr.all_played
    request = vcr.played_requests[0]
    assert request.method == "POST"
    assert request.uri == MESSAGES_URL
    assert sent_form(vcr) == [
        ("To", SUPPORTER),
        ("StatusCallback", STATUS_CALLBACK),
        ("From", HOTLINE),
        ("Body", REPLY),
    ]


@exact_body
def test_send_mms_repeats_media_url(vcr, gateway):
    media = [
        "https://hotline.example.com/media/flyer.jpg",
        "https://hotline.example.com/media/map.png",
    ]

    sid = gateway.send_sms(HOTLINE, SUPPORTER, "Here is the flyer and a map.", media_urls=media)

    assert sid.startswith("MM")
    assert vcr.play_count == 1
    form = sent_form(vcr)
    assert [value for key, value in form if key == "MediaUrl"] == media
    assert "StatusCallback" not in dict(form)


@exact_body
def test_send_to_opted_out_supporter_is_permanent(vcr, gateway):
    with pytest.raises(TwilioSendError) as caught:
        gateway.send_sms(HOTLINE, "+15005550004", "Are you still there?")

    error = caught.value
    assert type(error) is TwilioSendError
    assert (error.code, error.status, error.permanent) == (21610, 400, True)
    assert "opted out" in error.explanation and "START" in error.explanation
    assert "21610" in str(error)
    assert_no_secret(error)


@exact_body
def test_send_to_invalid_number_is_permanent(vcr, gateway):
    with pytest.raises(TwilioSendError) as caught:
        gateway.send_sms(HOTLINE, "+15005550001", "Are you still there?")

    error = caught.value
    assert (error.code, error.status, error.permanent) == (21211, 400, True)
    assert "not a valid phone number" in error.explanation
    assert not isinstance(error, (TwilioTransient, TwilioAmbiguous))


@exact_body
def test_send_with_rejected_credentials_is_permanent(vcr, gateway):
    with pytest.raises(TwilioSendError) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "Are you still there?")

    error = caught.value
    assert (error.code, error.status, error.permanent) == (20003, 401, True)
    assert "credentials" in error.explanation
    assert_no_secret(error)


@exact_body
def test_send_rate_limited_is_transient(vcr, gateway):
    with pytest.raises(TwilioTransient) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "Are you still there?")

    error = caught.value
    assert (error.code, error.status, error.permanent) == (20429, 429, False)
    assert error.retry_after is None  # this response had no Retry-After header
    assert "too many requests" in error.explanation


@exact_body
def test_send_server_error_is_ambiguous(vcr, gateway):
    with pytest.raises(TwilioAmbiguous) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "Are you still there?")

    error = caught.value
    assert (error.status, error.permanent) == (500, False)
    assert error.code == 20500
    assert isinstance(error, AmbiguousOutcome)
    assert "check before sending" in error.explanation


def test_retry_after_header_is_kept():
    class RateLimited(HttpClient):
        def __init__(self):
            super().__init__(None, False, None)

        def request(self, method, url, **kwargs):
            body = '{"code": 20429, "message": "Too Many Requests", "status": 429}'
            return Response(429, body, {"retry-after": "3"})

    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, http_client=RateLimited())
    with pytest.raises(TwilioTransient) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "hello")
    assert caught.value.retry_after == 3.0


# --- transport failures ----------------------------------------------------------------------


class RaisingAdapter(HTTPAdapter):
    """Stands in for the network: raises ``error`` and notes the timeout asked for."""

    def __init__(self, error):
        super().__init__()
        self.error = error
        self.timeouts = []

    def send(self, request, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        raise self.error(request=request) if isinstance(self.error, type) else self.error


def gateway_over(adapter, **kwargs):
    http_client = TwilioHttpClient(timeout=kwargs.pop("timeout", 10.0))
    http_client.session.mount("https://", adapter)
    return TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client, **kwargs)


def connection_error(reason):
    return requests.exceptions.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason))


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ReadTimeout,
        connection_error(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
        requests.exceptions.ChunkedEncodingError,
    ],
    ids=["read-timeout", "connection-reset", "broken-response"],
)
def test_send_failure_after_sending_is_ambiguous(failure):
    gateway = gateway_over(RaisingAdapter(failure))

    with pytest.raises(TwilioAmbiguous) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "hello")

    assert caught.value.permanent is False
    assert caught.value.status is None
    assert_no_secret(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout,
        connection_error(NewConnectionError(None, "Failed to establish a new connection: refused")),
    ],
    ids=["connect-timeout", "connection-refused"],
)
def test_send_failure_before_sending_is_transient(failure):
    gateway = gateway_over(RaisingAdapter(failure))

    with pytest.raises(TwilioTransient) as caught:
        gateway.send_sms(HOTLINE, SUPPORTER, "hello")

    assert caught.value.permanent is False
    assert caught.value.retry_after is None
    assert "could not reach Twilio" in caught.value.explanation
    assert_no_secret(caught.value)


def test_default_http_client_uses_the_timeout():
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, timeout=4.5)
    adapter = RaisingAdapter(requests.exceptions.ReadTimeout)
    gateway._http.inner.session.mount("https://", adapter)

    with pytest.raises(TwilioAmbiguous):
        gateway.send_sms(HOTLINE, SUPPORTER, "hello")
    assert adapter.timeouts == [4.5]


def test_gateway_repr_hides_the_token(gateway):
    assert AUTH_TOKEN not in repr(gateway)
    assert ACCOUNT_SID in repr(gateway)


# --- base_url --------------------------------------------------------------------------------


@exact_body
def test_base_url_replaces_api_host(vcr, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")  # must not rewrite an explicit host
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, base_url=LOCAL_DOUBLE + "/")

    sid = gateway.send_sms(HOTLINE, SUPPORTER, "Testing through the local double.")

    assert sid == "SM9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
    assert vcr.play_count == 1
    assert vcr.played_requests[0].uri == f"{LOCAL_DOUBLE}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def test_default_base_url():
    assert DEFAULT_BASE_URL == "https://api.twilio.com"
    assert TwilioGateway(ACCOUNT_SID, AUTH_TOKEN).base_url == DEFAULT_BASE_URL


# --- find_sent_message -----------------------------------------------------------------------


@pytest.mark.vcr
def test_find_sent_message_found(vcr, gateway):
    sid = gateway.find_sent_message(HOTLINE, SUPPORTER, REPLY, SENT_AT)

    assert sid == "SM5f1c1e3e9b7a4d0c8e2f6a1b3c5d7e90"
    query = dict(parse_qsl(vcr.played_requests[0].uri.split("?", 1)[1]))
    assert query == {"To": SUPPORTER, "From": HOTLINE, "DateSent>": "2026-11-24", "PageSize": "50"}


@pytest.mark.vcr
@pytest.mark.default_cassette("test_find_sent_message_found.yaml")
def test_find_sent_message_accepts_naive_utc_and_clock_skew(vcr, gateway):
    # Twilio created the match at 12:30:04; a minute of skew is tolerated, more is not.
    naive = datetime(2026, 11, 25, 12, 31, 0)
    assert gateway.find_sent_message(HOTLINE, SUPPORTER, REPLY, naive) == (
        "SM5f1c1e3e9b7a4d0c8e2f6a1b3c5d7e90"
    )


@pytest.mark.vcr
@pytest.mark.default_cassette("test_find_sent_message_found.yaml")
def test_find_sent_message_ignores_matches_older_than_a_minute(vcr, gateway):
    since = SENT_AT + timedelta(seconds=65)
    assert gateway.find_sent_message(HOTLINE, SUPPORTER, REPLY, since) is None


@pytest.mark.vcr
def test_find_sent_message_not_found(vcr, gateway):
    # Same body the day before and a different body since: neither is our send.
    assert gateway.find_sent_message(HOTLINE, SUPPORTER, REPLY, SENT_AT) is None
    assert vcr.play_count == 1


@pytest.mark.vcr
def test_find_sent_message_server_error_is_transient(vcr, gateway):
    with pytest.raises(TwilioTransient) as caught:
        gateway.find_sent_message(HOTLINE, SUPPORTER, REPLY, SENT_AT)

    assert (caught.value.status, caught.value.code) == (503, 20503)
    assert not isinstance(caught.value, TwilioAmbiguous)


# --- list_inbound ----------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_inbound_pages_and_filters(vcr, gateway):
    since = datetime(2026, 11, 25, 4, 0, tzinfo=timezone(timedelta(hours=-5)))  # 09:00 UTC

    messages = gateway.list_inbound(HOTLINE, since, limit=4)

    assert vcr.play_count == 2  # followed next_page_uri
    assert messages == [
        {
            "sid": "SMa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
            "from": SUPPORTER,
            "to": HOTLINE,
            "body": "Where do I vote?",
            "num_media": 0,
            "date_sent": datetime(2026, 11, 25, 11, 58, 12, tzinfo=timezone.utc),
        },
        {
            "sid": "MMb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
            "from": "+14155550123",
            "to": HOTLINE,
            "body": "",
            "num_media": 1,
            "date_sent": datetime(2026, 11, 25, 10, 41, 7, tzinfo=timezone.utc),
        },
    ]


@pytest.mark.vcr
def test_list_inbound_stops_at_limit(vcr, gateway):
    messages = gateway.list_inbound(HOTLINE, SENT_AT - timedelta(hours=3), limit=1)

    assert [m["sid"] for m in messages] == ["SMa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"]
    assert vcr.play_count == 1  # the next page was not fetched


def test_list_inbound_with_no_limit_reads_nothing(gateway):
    assert gateway.list_inbound(HOTLINE, SENT_AT, limit=0) == []


# --- explain_error ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21610, "replied STOP"),
        (21211, "not a valid phone number"),
        (21614, "landline"),
        (21408, "region"),
        (21612, "unroutable"),
        (21606, "cannot send SMS"),
        (21617, "too long"),
        (30003, "unreachable"),
        (30005, "unknown or no longer active"),
        (30006, "landline"),
        (30007, "spam"),
        (30008, "unknown reason"),
        (20003, "credentials"),
        (20429, "too many requests"),
    ],
)
def test_explain_known_codes(code, words):
    assert words in explain_error(code)


def test_explain_unknown_codes():
    assert explain_error(12345) == "Twilio error 12345"
    assert explain_error(12345, "something else") == "something else"
    assert explain_error(21610, "ignored") == explain_error(21610)
    assert explain_error(None) == "an unexpected Twilio error"
