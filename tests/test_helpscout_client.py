"""Help Scout client against hand-written cassettes (see docs/reference/helpscout.md).

Cassettes check what goes over the wire. ``RecordingSession`` keeps the
prepared requests so the tests can check the exact JSON, the headers and
the arguments sent. ``StubSession`` covers what a cassette cannot:
timeouts, dropped connections, and statuses with no documented body.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bling.clients.helpscout import (
    DEFAULT_BASE_URL,
    HelpScoutAmbiguous,
    HelpScoutAuthError,
    HelpScoutClient,
    HelpScoutError,
    HelpScoutMoved,
    HelpScoutNotFound,
    HelpScoutRateLimited,
    HelpScoutThreadLimit,
    HelpScoutTransient,
    HelpScoutValidationError,
    MemoryTokenCache,
)

CLIENT_ID = "test-client-id"
SECRET = "test-client-secret-never-shown"
NOW = 1_767_693_600.0  # 2026-01-06T10:00:00Z
TOKEN_LIFETIME = 172_800
ALL_TOKENS = ("test-access-token-1", "test-access-token-2", "cached-token", "stale-token")



# --------------------------------------------------------------------------
# Test doubles


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeBudget:
    """Records what the client takes and reports. With ``refuse`` set, it refuses every request."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.acquired: list[int] = []
        self.observed: list[tuple] = []

    def acquire(self, cost: int) -> None:
        self.acquired.append(cost)
        if self.refuse is not None:
            raise self.refuse

    def observe(self, limit, remaining, retry_after) -> None:
        self.observed.append((limit, remaining, retry_after))


class RecordingSession(requests.Session):
    """A real session (vcrpy replays below it) that also keeps what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        return super().send(request, **kwargs)


class StubSession(requests.Session):
    """Never touches the network. Each send takes the next answer: an exception or (status, headers, body)."""

    def __init__(self, *answers) -> None:
        super().__init__()
        self.answers = list(answers)
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        status, headers, body = answer
        response = requests.Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.headers.update(headers)
        response._content = body.encode()
        response.request = request
        response.url = request.url
        return response


# --------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def budget() -> FakeBudget:
    return FakeBudget()


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(session, budget, clock) -> HelpScoutClient:
    return make_client(session, budget=budget, clock=clock)


def make_client(session, *, budget=None, clock=None, token_cache=None) -> HelpScoutClient:
    return HelpScoutClient(
        CLIENT_ID,
        SECRET,
        base_url=DEFAULT_BASE_URL,
        token_cache=token_cache,
        budget=budget,
        session=session,
        clock=clock or Clock(),
    )


def cache_with(token: str, expires_at: float = NOW + 3600) -> MemoryTokenCache:
    cache = MemoryTokenCache()
    cache.put(token, expires_at)
    return cache


def stub_client(*answers, budget=None) -> tuple[HelpScoutClient, StubSession]:
    """Client with a valid cached token, so every answer goes to the API call itself."""
    session = StubSession(*answers)
    return make_client(session, budget=budget, token_cache=cache_with("cached-token")), session


def sent_json(session, index: int) -> dict:
    return json.loads(session.sent[index][0].body)


def auth_headers(session) -> list[str | None]:
    return [request.headers.get("Authorization") for request, _ in session.sent]


def played(cassette, path: str) -> int:
    """How many times the cassette answered requests to ``path``."""
    return sum(
        cassette.play_counts[index]
        for index, request in enumerate(cassette.requests)
        if request.path == path
    )


def assert_no_secrets(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), getattr(exc, "message", ""), *map(str, exc.args)):
        assert SECRET not in text
        for token in ALL_TOKENS:
            assert token not in text


# --------------------------------------------------------------------------
# Tokens


@pytest.mark.vcr
def test_token_fetched_once_and_cached(client, session, budget, vcr):
    conversation = client.get_conversation(987)
    customer = client.get_customer(555)

    assert conversation["id"] == 987 and conversation["primaryCustomer"] == {"id": 555}
    assert customer["_embedded"]["phones"][0]["value"] == "+15555550123"
    assert played(vcr, "/v2/oauth2/token") == 1
    assert vcr.all_played
    token_request = session.sent[0][0]
    assert json.loads(token_request.body) == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    assert token_request.headers["Content-Type"] == "application/json"
    assert auth_headers(session) == [None, "Bearer test-access-token-1", "Bearer test-access-token-1"]
    assert client.token_cache.get() == ("test-access-token-1", NOW + TOKEN_LIFETIME)
    assert budget.acquired == [1, 1]
    assert budget.observed == [(400, 399, None), (400, 398, None)]


@pytest.mark.vcr
def test_token_renewed_before_expiry(client, session, clock, vcr):
    client.get_conversation(987)
    clock.now = NOW + TOKEN_LIFETIME - 61  # still more than a minute left
    client.get_conversation(987)
    clock.now = NOW + TOKEN_LIFETIME - 59  # inside the last minute: renew
    client.get_conversation(987)

    assert played(vcr, "/v2/oauth2/token") == 2
    assert vcr.all_played
    assert auth_headers(session) == [
        None,
        "Bearer test-access-token-1",
        "Bearer test-access-token-1",
        None,
        "Bearer test-access-token-2",
    ]


@pytest.mark.vcr
def test_expired_token_is_refreshed_and_request_retried(session, budget, vcr):
    cache = cache_with("stale-token")
    client = make_client(session, budget=budget, token_cache=cache)

    assert client.get_conversation(987)["id"] == 987

    assert vcr.all_played
    assert auth_headers(session) == ["Bearer stale-token", None, "Bearer test-access-token-2"]
    assert cache.get() == ("test-access-token-2", NOW + TOKEN_LIFETIME)
    assert budget.acquired == [1, 1]  # the retry is charged too
    assert budget.observed == [(None, None, None), (400, 399, None)]


@pytest.mark.vcr
def test_second_401_raises_auth_error(session, vcr):
    client = make_client(session, token_cache=cache_with("stale-token"))

    with pytest.raises(HelpScoutAuthError) as caught:
        client.get_conversation(987)

    assert caught.value.status == 401
    assert "GET /v2/conversations/987 returned 401" in caught.value.message
    assert "fresh" in caught.value.message
    assert_no_secrets(caught.value)
    assert vcr.all_played and vcr.play_count == 3  # one refresh, one retry, no third attempt


@pytest.mark.vcr
def test_token_endpoint_refusing_credentials_raises_auth_error(client, session, vcr):
    with pytest.raises(HelpScoutAuthError) as caught:
        client.create_note(987, "never sent")

    assert caught.value.status == 400
    assert "Invalid client authentication" in caught.value.message
    assert CLIENT_ID in caught.value.message
    assert_no_secrets(caught.value)
    assert len(session.sent) == 1  # the note was never attempted
    assert client.token_cache.get() is None


# --------------------------------------------------------------------------
# Rate limits and budget


@pytest.mark.vcr
def test_rate_limited_429(client, budget, vcr):
    with pytest.raises(HelpScoutRateLimited) as caught:
        client.get_conversation(987)

    assert caught.value.retry_after == 17.0
    assert caught.value.status == 429
    assert isinstance(caught.value, HelpScoutTransient)
    assert "API rate limit exceeded" in caught.value.message
    assert budget.acquired == [1]
    assert budget.observed == [(200, 0, 17.0)]
    assert vcr.all_played


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Retry-After": "3", "Retry-After": "9"}, 3.0),
        ({"Retry-After": "9"}, 9.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 60.0),
        ({}, 60.0),
    ],
)
def test_rate_limit_wait_falls_back_to_retry_after_then_60s(headers, expected):
    budget = FakeBudget()
    client, _ = stub_client((429, headers, '{"message":"API rate limit exceeded"}'), budget=budget)

    with pytest.raises(HelpScoutRateLimited) as caught:
        client.get_customer(555)

    assert caught.value.retry_after == expected
    assert budget.observed == [(None, None, expected)]


def test_budget_refusal_sends_nothing():
    refusal = HelpScoutRateLimited(12)
    session = StubSession()  # any send would fail on an empty answer list
    budget = FakeBudget(refuse=refusal)
    client = make_client(session, budget=budget)

    with pytest.raises(HelpScoutRateLimited) as caught:
        client.create_note(987, "hello")

    assert caught.value is refusal and caught.value.retry_after == 12.0
    assert session.sent == []
    assert client.token_cache.get() is None  # not even a token was fetched
    assert budget.acquired == [2]  # writes cost 2


# --------------------------------------------------------------------------
# Creating things


@pytest.mark.vcr  # matches the body too (conftest.vcr_config)
def test_create_conversation(client, session, budget, vcr):
    customer_thread = {"type": "customer", "customer": {"id": 555}, "text": "Hello, is anyone there?"}

    conversation_id = client.create_conversation(
        206906, "SMS from +15555550123", {"id": 555}, [customer_thread], tags=["sms"]
    )

    assert conversation_id == 123456789
    assert vcr.all_played
    request, kwargs = session.sent[1]
    assert (request.method, request.url) == ("POST", "https://api.helpscout.net/v2/conversations")
    assert sent_json(session, 1) == {
        "subject": "SMS from +15555550123",
        "customer": {"id": 555},
        "mailboxId": 206906,
        "type": "phone",
        "status": "active",
        "threads": [customer_thread],
        "imported": False,
        "autoReply": False,
        "tags": ["sms"],
    }
    assert request.headers["Authorization"] == "Bearer test-access-token-1"
    assert request.headers["Content-Type"] == "application/json"
    assert kwargs["allow_redirects"] is False and kwargs["timeout"] == 10.0
    assert budget.acquired == [2]
    assert budget.observed == [(400, 398, None)]


@pytest.mark.vcr  # matches the body too (conftest.vcr_config)
def test_create_threads_and_note(client, session, budget, vcr):
    photo = {"fileName": "photo.jpg", "mimeType": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQ=="}

    customer_thread = client.create_customer_thread(987, {"id": 555}, "Here is the photo", [photo])
    phone_thread = client.create_phone_thread(987, {"id": 555}, "Voicemail, 0:42")
    note = client.create_note(987, "Delivered to +15555550123 by Twilio")

    assert (customer_thread, phone_thread, note) == (9871, 9872, 9873)
    assert vcr.all_played
    assert [request.path_url for request, _ in session.sent[1:]] == [
        "/v2/conversations/987/customer",
        "/v2/conversations/987/phones",
        "/v2/conversations/987/notes",
    ]
    assert sent_json(session, 1) == {
        "customer": {"id": 555},
        "text": "Here is the photo",
        "attachments": [photo],
        "imported": False,
    }
    assert sent_json(session, 2) == {"customer": {"id": 555}, "text": "Voicemail, 0:42"}
    assert sent_json(session, 3) == {"text": "Delivered to +15555550123 by Twilio"}
    assert budget.acquired == [2, 2, 2]


@pytest.mark.vcr  # matches the body too (conftest.vcr_config)
def test_create_conversation_validation_error(client, vcr):
    with pytest.raises(HelpScoutValidationError) as caught:
        thread = {"type": "customer", "customer": {"id": 555}, "text": "Hi"}
        client.create_conversation(206906, "", {"id": 555}, [thread], status="Wrong")

    error = caught.value
    assert error.status == 400
    assert error.log_ref == "64bb72b4-0a92-11e8-ba89-0ed5f89f718b"
    assert error.errors == [
        ("subject", "may not be empty"),
        ("status", "Expected one of these: 'active', 'spam', 'open', 'closed', 'pending'"),
    ]
    assert "POST /v2/conversations returned 400: Bad request" in error.message
    assert "subject: may not be empty" in error.message
    assert not isinstance(error, HelpScoutTransient)
    assert_no_secrets(error)
    assert vcr.all_played


def test_create_without_resource_id_is_ambiguous():
    client, _ = stub_client((201, {}, ""))

    with pytest.raises(HelpScoutAmbiguous) as caught:
        client.create_note(987, "hello")

    assert "Resource-ID" in caught.value.message


def _assert_thread_limit(client, status):
    with pytest.raises(HelpScoutThreadLimit) as caught:
        client.create_customer_thread(987, {"id": 555}, "One more message")
    assert caught.value.status == status
    assert "maximum number of threads" in caught.value.message
    assert "start a new conversation" in caught.value.message


@pytest.mark.vcr
def test_thread_limit(client):
    """The cap as 412 application/vnd.error+json without ``_embedded``.

    Planted bug: 412 left out of the status map (the cap became a plain HelpScoutError).
    """
    _assert_thread_limit(client, 412)


@pytest.mark.vcr
def test_thread_limit_json_with_embedded_errors(client):
    """The cap as 412 application/json with an empty ``_embedded.errors``.

    Planted bug: an answer with ``_embedded.errors`` read as a validation error (HelpScoutValidationError).
    """
    _assert_thread_limit(client, 412)


@pytest.mark.vcr
def test_thread_limit_423(client):
    """The cap as 423 Locked. Planted bug: 423 left out of the status map."""
    _assert_thread_limit(client, 423)


# --------------------------------------------------------------------------
# Reading


@pytest.mark.vcr
def test_list_threads_follows_pages(client, session, budget, vcr):
    threads = client.list_threads(987)

    assert [thread["id"] for thread in threads] == list(range(9827, 9800, -1))  # 27, newest first
    assert {thread["type"] for thread in threads} == {"customer", "note", "phone"}
    assert vcr.all_played
    assert [request.path_url for request, _ in session.sent[1:]] == [
        "/v2/conversations/987/threads",
        "/v2/conversations/987/threads?page=2",
    ]
    assert budget.acquired == [1, 1]


@pytest.mark.vcr
def test_list_threads_empty(client, vcr):
    assert client.list_threads(1001) == []
    assert vcr.all_played


@pytest.mark.vcr
def test_find_conversations(client, session, vcr):
    conversations = client.find_conversations(206906, "jane@example.com")

    assert [c["id"] for c in conversations] == [1002, 987]  # order kept: newest first
    assert vcr.all_played
    url = urlsplit(session.sent[1][0].url)
    assert url.path == "/v2/conversations"
    assert parse_qs(url.query) == {
        "mailbox": ["206906"],
        "status": ["all"],
        "query": ['(email:"jane@example.com")'],
        "sortField": ["createdAt"],
        "sortOrder": ["desc"],
    }


@pytest.mark.vcr
def test_find_conversations_no_match(client, vcr):
    assert client.find_conversations(206906, "nobody@example.com") == []
    assert vcr.all_played


@pytest.mark.vcr
def test_get_conversation_moved(client, session, vcr):
    with pytest.raises(HelpScoutMoved) as caught:
        client.get_conversation(987)

    assert caught.value.status == 301
    assert caught.value.new_id == 1001
    assert caught.value.location == "https://api.helpscout.net/v2/conversations/1001"
    assert "merged" in caught.value.message
    assert session.sent[1][1]["allow_redirects"] is False
    assert vcr.all_played and vcr.play_count == 2  # the redirect was not followed


@pytest.mark.vcr
def test_get_customer_not_found(client, vcr):
    with pytest.raises(HelpScoutNotFound) as caught:
        client.get_customer(404404)

    assert caught.value.status == 404
    assert "GET /v2/customers/404404 returned 404: Not Found" in caught.value.message
    assert vcr.all_played


# --------------------------------------------------------------------------
# Server errors and network failures


@pytest.mark.vcr
def test_write_500_is_ambiguous(client, vcr):
    with pytest.raises(HelpScoutAmbiguous) as caught:
        client.create_note(987, "Delivered to +15555550123 by Twilio")

    assert caught.value.status == 500
    assert isinstance(caught.value, HelpScoutTransient)
    assert caught.value.log_ref == "9f0c2a6e-eb1d-4a44-8d0b-6f3f1c7a9e21"
    assert vcr.all_played


@pytest.mark.vcr
def test_get_503_is_transient(client, vcr):
    with pytest.raises(HelpScoutTransient) as caught:
        client.list_threads(987)

    assert caught.value.status == 503
    assert not isinstance(caught.value, HelpScoutAmbiguous)
    assert "ring-balancer" in caught.value.message
    assert vcr.all_played


def _refused() -> requests.ConnectionError:
    """What requests raises when the TCP connection is refused (nothing sent)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/v2/conversations/987/notes", reason))


@pytest.mark.parametrize(
    ("call", "failure", "expected", "ambiguous"),
    [
        ("get", requests.ReadTimeout("read timed out"), HelpScoutTransient, False),
        ("get", requests.ConnectionError("connection reset by peer"), HelpScoutTransient, False),
        ("write", requests.ReadTimeout("read timed out"), HelpScoutAmbiguous, True),
        ("write", requests.ConnectionError("connection reset by peer"), HelpScoutAmbiguous, True),
        ("write", requests.exceptions.ChunkedEncodingError("truncated"), HelpScoutAmbiguous, True),
        ("write", requests.ConnectTimeout("connect timed out"), HelpScoutTransient, False),
        ("write", _refused(), HelpScoutTransient, False),
    ],
)
def test_network_failures(call, failure, expected, ambiguous):
    client, session = stub_client(failure)

    with pytest.raises(expected) as caught:
        if call == "get":
            client.get_conversation(987)
        else:
            client.create_note(987, "hello")

    assert isinstance(caught.value, HelpScoutAmbiguous) is ambiguous
    assert caught.value.status is None
    assert type(failure).__name__ in caught.value.message
    assert caught.value.__cause__ is failure
    assert_no_secrets(caught.value)
    assert len(session.sent) == 1  # never retried on its own


# --------------------------------------------------------------------------
# Secrets stay out of messages


def test_messages_scrub_secrets_echoed_by_the_server():
    echo = json.dumps({"error": "invalid_client", "error_description": f"bad secret {SECRET}"})
    client = make_client(StubSession((400, {}, echo)))

    with pytest.raises(HelpScoutAuthError) as caught:
        client.token()

    assert "[redacted]" in caught.value.message
    assert_no_secrets(caught.value)


def test_messages_scrub_the_token_echoed_by_the_server():
    error = {"path": "x", "message": "cached-token"}
    body = json.dumps({"message": "Bad request", "_embedded": {"errors": [error]}})
    client, _ = stub_client((400, {"Content-Type": "application/vnd.error+json"}, body))

    with pytest.raises(HelpScoutValidationError) as caught:
        client.get_customer(555)

    assert_no_secrets(caught.value)


def test_repr_hides_the_secret():
    client = make_client(StubSession())

    assert SECRET not in repr(client)
    assert CLIENT_ID in repr(client)


def test_other_statuses_are_permanent_errors():
    client, _ = stub_client((403, {}, '{"message":"Access denied"}'))

    with pytest.raises(HelpScoutError) as caught:
        client.get_customer(555)

    assert type(caught.value) is HelpScoutError
    assert caught.value.status == 403
    assert "Access denied" in caught.value.message
