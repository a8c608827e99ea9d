"""Help Scout Mailbox API 2.0 client.

Built on ``requests``. Help Scout publishes no Python SDK. Bling is
synchronous (Falcon WSGI and worker threads). ``requests`` is already
installed through the Twilio SDK, and vcrpy replays it in the tests.

All traffic goes through :meth:`HelpScoutClient.request`, which handles
the OAuth token, the account-wide rate budget and error mapping. Callers
therefore branch on exception types and never on status codes:

* ``HelpScoutTransient`` (and subclasses): retry later.
* ``HelpScoutAmbiguous``: a write whose outcome is unknown. Look before
  writing again, or the customer's message shows up twice.
* Every other ``HelpScoutError``: retrying the same request cannot help.

Exception messages never contain the client secret or a token.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Protocol

from bling import __version__
from bling.errors import AmbiguousOutcome
from bling.lazy_modules import LazyModule

requests = LazyModule("requests")  # loaded by the first call: web processes never call out
urllib3_exceptions = LazyModule("urllib3.exceptions")

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.helpscout.net"
TOKEN_PATH = "/v2/oauth2/token"
#: Renew tokens this many seconds before expiry so none expires in flight.
TOKEN_EXPIRY_MARGIN = 60.0
#: Used when a token response has no ``expires_in`` (old docs said 2 hours).
DEFAULT_TOKEN_LIFETIME = 7200.0
#: Wait used when a 429 names no delay.
DEFAULT_RETRY_AFTER = 60.0
#: Help Scout charges writes as 2 requests against the per-minute limit.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Upper bound on pages followed. 100 threads at 25 per page is 4 pages,
#: so more than this means the server keeps sending a ``next`` link.
MAX_PAGES = 50
_CONVERSATION_IN_URL = re.compile(r"/conversations/(\d+)")


def user_agent() -> str:
    """What Bling calls itself to Help Scout (and Mobile Commons)."""
    return f"bling/{__version__} python-requests/{requests.__version__}"


# --------------------------------------------------------------------------
# Errors


class HelpScoutError(Exception):
    """A Help Scout call failed. Carries what the API said about it."""

    #: Whether retrying the same call can never help (the worker buries the job).
    permanent = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Iterable[tuple[str, str]] = (),
        log_ref: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors: list[tuple[str, str]] = list(errors)
        self.log_ref = log_ref


class HelpScoutAuthError(HelpScoutError):
    """The credentials were refused. Nothing works until an operator fixes them."""

    permanent = False  # keep the job: it goes through once the credentials are fixed


class HelpScoutValidationError(HelpScoutError):
    """400: the request itself is wrong. Sending it again gives the same answer."""


class HelpScoutNotFound(HelpScoutError):
    """404: the resource does not exist (or a write went to a merged conversation)."""


class HelpScoutMoved(HelpScoutError):
    """301: the conversation was merged. Use ``new_id`` from now on."""

    def __init__(
        self, message: str, *, location: str | None = None, new_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.location = location
        self.new_id = new_id


class HelpScoutThreadLimit(HelpScoutError):
    """412/423: the conversation has hit the 100-thread cap. Start a new one."""


class HelpScoutTransient(HelpScoutError):
    """Temporary failure (5xx, timeout, network). The same call may succeed later."""

    permanent = False


class HelpScoutRateLimited(HelpScoutTransient):
    """429, or the shared budget is spent. Retry after ``retry_after`` seconds.

    ``retry_after`` comes first so a budget can raise ``HelpScoutRateLimited(17)``.
    """

    def __init__(
        self, retry_after: float = DEFAULT_RETRY_AFTER, message: str | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = float(retry_after)
        super().__init__(
            message or f"Help Scout rate limit reached; retry in {self.retry_after:g}s", **kwargs
        )


class HelpScoutAmbiguous(HelpScoutTransient, AmbiguousOutcome):
    """A write may or may not have happened. Check before writing again."""


_STATUS_ERRORS: dict[int, type[HelpScoutError]] = {
    400: HelpScoutValidationError,
    401: HelpScoutAuthError,
    404: HelpScoutNotFound,
    412: HelpScoutThreadLimit,
    423: HelpScoutThreadLimit,
}

_STATUS_HINTS: dict[int, str] = {
    301: "the conversation was merged into another one",
    401: "refused even a freshly fetched token; check the app and that its user is active",
    412: "the conversation holds the maximum number of threads; start a new conversation",
    423: "the conversation holds the maximum number of threads; start a new conversation",
}


# --------------------------------------------------------------------------
# Token cache and rate budget (in-memory defaults; SQL versions share them)


class TokenCache(Protocol):
    """Where the bearer token is kept, so workers share one token."""

    def get(self) -> tuple[str, float] | None: ...
    def put(self, token: str, expires_at: float) -> None: ...
    def invalidate(self, token: str) -> None: ...


class RateBudget(Protocol):
    """Account-wide request budget, shared with every other integration on the account."""

    def acquire(self, cost: int) -> None: ...
    def observe(self, limit: int | None, remaining: int | None, retry_after: float | None) -> None: ...


class MemoryTokenCache:
    """Per-process token cache. Good enough for one process and for tests."""

    def __init__(self) -> None:
        self._entry: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[str, float] | None:
        with self._lock:
            return self._entry

    def put(self, token: str, expires_at: float) -> None:
        with self._lock:
            self._entry = (token, float(expires_at))

    def invalidate(self, token: str) -> None:
        """Forget ``token``, unless another thread has already replaced it."""
        with self._lock:
            if self._entry is not None and self._entry[0] == token:
                self._entry = None


class NullBudget:
    """Budget that never blocks: Help Scout's 429s are the only limit."""

    def acquire(self, cost: int) -> None:
        return None

    def observe(self, limit: int | None, remaining: int | None, retry_after: float | None) -> None:
        return None


# --------------------------------------------------------------------------
# Client


class HelpScoutClient:
    """The Mailbox API 2.0 calls Bling needs, with auth, budget and errors in one place."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        token_cache: TokenCache | None = None,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.token_cache: TokenCache = token_cache if token_cache is not None else MemoryTokenCache()
        self.budget: RateBudget = budget if budget is not None else NullBudget()
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self._clock = clock
        self._recent_tokens: deque[str] = deque(maxlen=4)  # only used to scrub messages

    def __repr__(self) -> str:
        return f"HelpScoutClient(client_id={self.client_id!r}, base_url={self.base_url!r})"

    # -- authentication ----------------------------------------------------

    def token(self) -> str:
        """A bearer token, reused until a minute before it expires.

        Fetching a token for every call would double the traffic.
        """
        cached = self.token_cache.get()
        if cached is not None and cached[1] - TOKEN_EXPIRY_MARGIN > self._clock():
            return self._remember(cached[0])
        token, expires_at = self._fetch_token()
        self.token_cache.put(token, expires_at)
        return token

    def _fetch_token(self) -> tuple[str, float]:
        """Client-credentials grant.

        Not charged to the budget: it is the OAuth endpoint, not the
        Mailbox API. Safe to repeat, since a lost answer only costs a
        new token.
        """
        body = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        log.debug("fetching a Help Scout access token for client %s", self.client_id)
        response = self._send("POST", TOKEN_PATH, write=False, json=body)
        if response.status_code in (400, 401):
            payload = _json_object(response)
            reason = payload.get("error_description") or payload.get("error") or response.reason
            raise HelpScoutAuthError(
                self._scrub(
                    f"Help Scout refused the client credentials of app {self.client_id!r} "
                    f"({response.status_code}: {reason})"
                ),
                status=response.status_code,
            )
        self._raise_for_status(response, "POST", TOKEN_PATH, write=False)
        payload = _json_object(response)
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise HelpScoutError("Help Scout token response has no access_token", status=response.status_code)
        lifetime = _to_float(payload.get("expires_in")) or DEFAULT_TOKEN_LIFETIME
        return self._remember(token), self._clock() + lifetime

    def _remember(self, token: str) -> str:
        """Record a token in use so that ``_scrub`` can hide it."""
        if token not in self._recent_tokens:
            self._recent_tokens.append(token)
        return token

    def _scrub(self, text: str) -> str:
        """Hide the secret and any recent token that a server might echo back."""
        for secret in (self._client_secret, *self._recent_tokens):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    # -- the one request path ----------------------------------------------

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> requests.Response:
        """Send one API call and return its 2xx response. Anything else raises a HelpScoutError.

        A 401 is retried once with a new token, because another worker
        may have rotated it, or it may have expired early.
        """
        method = method.upper()
        token, response = self._authorized_send(method, path, params, json)
        if response.status_code == 401:
            self.token_cache.invalidate(token)
            _, response = self._authorized_send(method, path, params, json)
        self._raise_for_status(response, method, path, write=method in WRITE_METHODS)
        return response

    def _authorized_send(
        self, method: str, path: str, params: dict[str, Any] | None, json: Any
    ) -> tuple[str, requests.Response]:
        """Take from the budget, send with the current token, then report the rate headers back."""
        write = method in WRITE_METHODS
        self.budget.acquire(2 if write else 1)
        token = self.token()
        response = self._send(method, path, write=write, token=token, params=params, json=json)
        self.budget.observe(*_rate_headers(response))
        return token, response

    def _send(
        self,
        method: str,
        path: str,
        *,
        write: bool,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One HTTP exchange. Network failures become Transient or Ambiguous."""
        headers = {"User-Agent": user_agent()}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,  # a 301 means "merged"; the caller must learn the new id
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise self._network_error(method, path, exc, write) from exc
        log.debug("Help Scout %s %s -> %s", method, path, response.status_code)
        return response

    def _network_error(
        self, method: str, path: str, exc: requests.RequestException, write: bool
    ) -> HelpScoutTransient:
        """Decide whether a failed exchange might have reached Help Scout."""
        what = f"Help Scout {method} {path} failed: {type(exc).__name__}"
        if write and not _nothing_sent(exc):
            return HelpScoutAmbiguous(
                f"{what}; the write may have been applied, check before sending it again"
            )
        return HelpScoutTransient(f"{what}; nothing was changed, safe to retry")

    def _raise_for_status(self, response: requests.Response, method: str, path: str, *, write: bool) -> None:
        """Map a non-2xx answer to the matching HelpScoutError."""
        status = response.status_code
        if 200 <= status < 300:
            return
        payload = _json_object(response)
        errors = _field_errors(payload)
        log_ref = payload.get("logRef") if isinstance(payload.get("logRef"), str) else None
        message = self._scrub(_describe(method, path, response, payload, errors, log_ref))
        details: dict[str, Any] = {"status": status, "errors": errors, "log_ref": log_ref}
        if status == 429:
            raise HelpScoutRateLimited(_retry_after(response) or DEFAULT_RETRY_AFTER, message, **details)
        if status == 301:
            location = response.headers.get("Location")
            raise HelpScoutMoved(message, location=location, new_id=_conversation_id(location), **details)
        if status >= 500:
            raise (HelpScoutAmbiguous if write else HelpScoutTransient)(message, **details)
        raise _STATUS_ERRORS.get(status, HelpScoutError)(message, **details)

    # -- helpers for endpoints ---------------------------------------------

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return _json_object(self.request("GET", path, params=params))

    def _create(self, path: str, body: dict[str, Any]) -> int:
        """POST a new resource and return its id from the ``Resource-ID`` header (201 has no body)."""
        response = self.request("POST", path, json=body)
        value = response.headers.get("Resource-ID")
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise HelpScoutAmbiguous(
                f"Help Scout POST {path} returned {response.status_code} without a usable Resource-ID "
                f"header ({value!r}); the resource probably exists, look it up before creating it again",
                status=response.status_code,
            ) from None

    def _all_pages(self, path: str, key: str) -> list[dict[str, Any]]:
        """Follow HAL pages (25 items each) until the last one."""
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = self._get_json(path, {"page": page} if page > 1 else None)
            items.extend(_embedded(body, key))
            if not _has_next_page(body):
                return items
        log.warning("Help Scout %s still had pages after %d; stopped there", path, MAX_PAGES)
        return items

    # -- endpoints ---------------------------------------------------------

    def get_conversation(self, conversation_id: int) -> dict[str, Any]:
        """One conversation. Raises HelpScoutMoved if it was merged into another."""
        return self._get_json(f"/v2/conversations/{int(conversation_id)}")

    def list_threads(self, conversation_id: int) -> list[dict[str, Any]]:
        """Every thread of a conversation, newest first (all pages)."""
        return self._all_pages(f"/v2/conversations/{int(conversation_id)}/threads", "threads")

    def find_conversations(self, mailbox_id: int, email: str) -> list[dict[str, Any]]:
        """Conversations of the customer with this e-mail in a mailbox, any status, newest first.

        Only the first page (25) is read: callers want the latest conversation.
        """
        params = {
            "mailbox": int(mailbox_id),
            "status": "all",
            "query": f'(email:"{_quote(email)}")',
            "sortField": "createdAt",
            "sortOrder": "desc",
        }
        return _embedded(self._get_json("/v2/conversations", params), "conversations")

    def create_conversation(
        self,
        mailbox_id: int,
        subject: str,
        customer: dict[str, Any],
        threads: list[dict[str, Any]],
        type: str = "phone",
        status: str = "active",
        imported: bool = False,
        tags: list[str] | None = None,
    ) -> int:
        """Open a conversation. ``autoReply`` is off: the customer is on a phone, not e-mail."""
        body: dict[str, Any] = {
            "subject": subject,
            "customer": customer,
            "mailboxId": int(mailbox_id),
            "type": type,
            "status": status,
            "threads": threads,
            "imported": imported,
            "autoReply": False,
        }
        if tags:
            body["tags"] = list(tags)
        return self._create("/v2/conversations", body)

    def create_customer_thread(
        self,
        conversation_id: int,
        customer: dict[str, Any],
        text: str,
        attachments: list[dict[str, Any]] | None = None,
        imported: bool = False,
    ) -> int:
        """Add a customer message (e.g. an inbound SMS). It re-opens the conversation unless imported."""
        body = _thread_body(text, customer, attachments)
        body["imported"] = imported
        return self._create(f"/v2/conversations/{int(conversation_id)}/customer", body)

    def create_phone_thread(
        self,
        conversation_id: int,
        customer: dict[str, Any],
        text: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> int:
        """Log a phone call (e.g. a voicemail) on the conversation."""
        body = _thread_body(text, customer, attachments)
        return self._create(f"/v2/conversations/{int(conversation_id)}/phones", body)

    def create_note(self, conversation_id: int, text: str) -> int:
        """Add an internal note. Agents see it; the customer is never e-mailed."""
        return self._create(f"/v2/conversations/{int(conversation_id)}/notes", {"text": text})

    def get_customer(self, customer_id: int) -> dict[str, Any]:
        """One customer profile, with ``_embedded`` emails and phones."""
        return self._get_json(f"/v2/customers/{int(customer_id)}")

    def search_customers(self, query: str) -> list[dict[str, Any]]:
        """Customers matching a v3 search ``query`` (first page only); see ``customer_query``.

        ``GET /v3/customers/search`` looks up "a list of email addresses or
        phone numbers in one request" (at most ``CUSTOMER_QUERY_MAX`` characters);
        v2's customer search has no phone field. Needs the "contacts
        directory" permission (else 403).
        """
        return _embedded(self._get_json("/v3/customers/search", {"query": query}), "customers")

    def tag_conversation(self, conversation_id: int, tags: Iterable[str]) -> list[str]:
        """Add ``tags`` to a conversation, keeping the ones it has; return the full set.

        ``PUT …/tags`` replaces the whole set, so the current tags are read
        first (a tag an agent adds between the read and the write is lost:
        Help Scout offers no add-only call). Nothing is written when every
        tag is already there.
        """
        conversation = self.get_conversation(conversation_id)
        current = [t.get("tag") for t in conversation.get("tags") or [] if isinstance(t, dict) and t.get("tag")]
        wanted = current + [t for t in tags if t not in current]
        if wanted != current:
            self.request("PUT", f"/v2/conversations/{int(conversation_id)}/tags", json={"tags": wanted})
        return wanted

    # -- set-up (bling provision, bling check --live) ------------------------

    def get_mailbox(self, mailbox_id: int) -> dict[str, Any]:
        """One mailbox (id, name, email); 404 when the app's user cannot see it."""
        return self._get_json(f"/v2/mailboxes/{int(mailbox_id)}")

    def list_webhooks(self) -> list[dict[str, Any]]:
        """Every webhook of the account (all pages)."""
        return self._all_pages("/v2/webhooks", "webhooks")

    def create_webhook(self, body: dict[str, Any]) -> int:
        """Create a webhook (url, events, secret, mailboxIds…); return its id."""
        return self._create("/v2/webhooks", body)

    def update_webhook(self, webhook_id: int, body: dict[str, Any]) -> None:
        """Replace a webhook's settings (PUT, 204)."""
        self.request("PUT", f"/v2/webhooks/{int(webhook_id)}", json=body)

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook (204)."""
        self.request("DELETE", f"/v2/webhooks/{int(webhook_id)}")


# --------------------------------------------------------------------------
# Pure helpers


def _thread_body(
    text: str, customer: dict[str, Any], attachments: list[dict[str, Any]] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"customer": customer, "text": text}
    if attachments:
        body["attachments"] = attachments
    return body


def _json_object(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} when it is empty or not JSON (e.g. a gateway's HTML page)."""
    if not response.content:
        return {}
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _embedded(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Items of a HAL list. Help Scout omits ``_embedded`` when the list is empty."""
    items = (body.get("_embedded") or {}).get(key) or []
    return list(items)


def _has_next_page(body: dict[str, Any]) -> bool:
    if "next" in (body.get("_links") or {}):
        return True
    page = body.get("page") or {}
    number, total = page.get("number"), page.get("totalPages")
    return isinstance(number, int) and isinstance(total, int) and number < total


def _field_errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """``(path, message)`` pairs from a vnd.error body's ``_embedded.errors``."""
    errors = (payload.get("_embedded") or {}).get("errors") or []
    return [
        (str(error.get("path", "")), str(error.get("message", "")))
        for error in errors
        if isinstance(error, dict)
    ]


def _describe(
    method: str,
    path: str,
    response: requests.Response,
    payload: dict[str, Any],
    errors: list[tuple[str, str]],
    log_ref: str | None,
) -> str:
    """A one-line message saying which call failed, what Help Scout said, and what to do."""
    said = payload.get("message") or payload.get("error_description") or response.reason or "no reason given"
    text = f"Help Scout {method} {path} returned {response.status_code}: {said}"
    if errors:
        text += " (" + "; ".join(f"{p or '?'}: {m}" for p, m in errors) + ")"
    hint = _STATUS_HINTS.get(response.status_code)
    if hint:
        text += f"; {hint}"
    if log_ref:
        text += f" [logRef {log_ref}]"
    return text


def _rate_headers(response: requests.Response) -> tuple[int | None, int | None, float | None]:
    """(limit, remaining, retry_after) for the budget. A 429 always gets a wait."""
    headers = response.headers
    retry_after = _retry_after(response)
    if response.status_code == 429 and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER
    return (
        _to_int(headers.get("X-RateLimit-Limit-Minute")),
        _to_int(headers.get("X-RateLimit-Remaining-Minute")),
        retry_after,
    )


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait: X-RateLimit-Retry-After, else a numeric Retry-After."""
    for name in ("X-RateLimit-Retry-After", "Retry-After"):
        value = _to_float(response.headers.get(name))
        if value is not None:
            return max(value, 0.0)
    return None


def _to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _conversation_id(location: str | None) -> int | None:
    """The conversation id in a Location such as https://api.helpscout.net/v2/conversations/42."""
    match = _CONVERSATION_IN_URL.search(location or "")
    return int(match.group(1)) if match else None


#: Help Scout's limit on a v3 search query's length.
CUSTOMER_QUERY_MAX = 500


def customer_query(phones: list[str] = (), emails: list[str] = ()) -> str:
    """``phone:"…" OR email:"…"`` terms for a v3 customer search."""
    terms = [f'phone:"{_quote(phone)}"' for phone in phones] + [f'email:"{_quote(email)}"' for email in emails]
    return " OR ".join(terms)


def _quote(value: str) -> str:
    """Escape a value for a double-quoted term of the search ``query``."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _nothing_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so no request can have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3_exceptions.NewConnectionError)
