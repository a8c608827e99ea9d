"""A local Help Scout Mailbox API 2.0 double for the burst benchmark.

Why a double: the burst must show how Bling behaves against Help Scout's
account-wide rate limit, and count duplicates and losses exactly, which no
shared real account allows. So this server implements exactly the endpoints
Bling calls (bling/clients/helpscout.py) with the wire shapes of Help Scout's
Mailbox API 2.0 reference (https://developer.helpscout.com/mailbox-api/):

* ``POST /v2/oauth2/token`` (JSON or form client-credentials grant);
* ``GET /v2/conversations`` (``mailbox``, ``status``, ``query=(email:"…")``,
  newest first, 25 a page, HAL envelope with ``_embedded`` omitted when
  empty, ``threads`` a count);
* ``POST /v2/conversations`` (201, ``Resource-ID``, empty body);
* ``POST /v2/conversations/{id}/customer|phones|notes`` (201 + ``Resource-ID``;
  404 unknown conversation; 412 at 100 threads);
* ``GET /v2/conversations/{id}/threads`` (newest first, 25 a page);
* ``GET /v2/customers/{id}``;
* ``GET /v3/customers/search?query=phone:"…" OR email:"…" OR …`` (Bling's
  ``customer_match`` plugin): ``phone:"…"`` and ``email:"…"`` terms joined
  by OR; it returns every customer whose phone has the digits of any phone
  term or whose e-mail equals any email term. The v3 shape is unconfirmed
  in the reference, so it answers like v2: HAL ``_embedded.customers``,
  each with ``_embedded.emails``/``phones``; ``_embedded`` omitted when
  nobody matches.

A conversation created for an e-mail the account has never seen creates
that customer (its e-mail and the ``phone`` Bling sends), as Help Scout
does, so a later customer search finds it.

The rate limit is Help Scout's: ``limit`` units per clock minute for the
whole account (Kong's fixed windows), a GET costs 1 and a write 2, a request
that would go over gets 429 ``{"message":"API rate limit exceeded"}`` with
``X-RateLimit-Retry-After`` and is not charged. Every response carries
``X-RateLimit-Limit-Minute`` and ``X-RateLimit-Remaining-Minute``.

Writes are applied *before* the artificial latency, so a client killed
mid-request leaves a write it never heard about: the ambiguous case Bling
must resolve without posting twice.

Every request and thread is recorded (``HelpScoutDouble.hits``,
``.conversations``) for the benchmark's accounting. Run alone with
``python bench/helpscout_double.py --port 8100``.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 25
THREAD_CAP = 100
TOKEN = "bench-helpscout-token"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_EMAIL_QUERY = re.compile(r'email:"((?:[^"\\]|\\.)*)"')
_THREAD_PATH = re.compile(r"^/v2/conversations/(\d+)/(customer|phones|notes)$")
_THREADS_LIST = re.compile(r"^/v2/conversations/(\d+)/threads$")
_CUSTOMER_PATH = re.compile(r"^/v2/customers/(\d+)$")
_PHONE_QUERY = re.compile(r'phone:"((?:[^"\\]|\\.)*)"')
_THREAD_TYPES = {"customer": "customer", "phones": "phone", "notes": "note"}


def iso(moment: float) -> str:
    """Help Scout's timestamp format, e.g. 2017-03-31T23:30:01Z."""
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Thread:
    id: int
    conversation_id: int
    type: str  # customer, phone, note
    text: str
    created_at: float
    seeded: bool = False  # put there by the benchmark, not by Bling


@dataclass
class Conversation:
    id: int
    mailbox_id: int
    customer_id: int
    email: str
    subject: str
    type: str
    created_at: float
    threads: list[Thread] = field(default_factory=list)


@dataclass
class Customer:
    id: int
    email: str
    phone: str | None


@dataclass
class Hit:
    """One request as the double saw it."""

    at: float
    method: str
    path: str
    status: int
    units: int  # charged against the limit (0 for 429s and the token endpoint)
    #: The supporters it concerned, when known: a conversation's e-mail, or every
    #: ``phone:"…"``/``email:"…"`` term of a customer search (a batch names several).
    supporters: tuple[str, ...] = ()


class RateLimiter:
    """``limit`` units per clock minute for the whole account (Kong's fixed window)."""

    def __init__(self, limit: int, clock=time.time):
        self.limit, self.clock = limit, clock
        self.window = -1
        self.used = 0

    def charge(self, cost: int) -> tuple[bool, int, float]:
        """Spend ``cost`` if it fits; return (allowed, remaining, seconds to the next window)."""
        now = self.clock()
        window = int(now // 60)
        if window != self.window:
            self.window, self.used = window, 0
        retry_after = (window + 1) * 60 - now
        if self.used + cost > self.limit:
            return False, self.limit - self.used, retry_after
        self.used += cost
        return True, self.limit - self.used, retry_after


class HelpScoutDouble:
    """In-memory Help Scout account: state, rate limit, and the request log."""

    def __init__(self, limit_per_minute: int = 200, latency: float = 0.0, clock=time.time):
        self.limiter = RateLimiter(limit_per_minute, clock)
        self.latency = latency
        self.clock = clock
        self.lock = threading.Lock()
        self.conversations: dict[int, Conversation] = {}
        self.customers: dict[int, Customer] = {}
        self.customers_by_email: dict[str, Customer] = {}
        self.hits: list[Hit] = []
        self.tokens_issued = 0
        #: Called as ``after_write(method, path, status)`` once a write is applied and
        #: before it is answered: the benchmark kills the writer there, mid-request.
        self.after_write = None
        self._ids = itertools.count(1000)
        self._thread_ids = itertools.count(50000)
        self._server: ThreadingHTTPServer | None = None

    # -- benchmark API (not HTTP) ------------------------------------------

    def seed_conversation(self, mailbox_id: int, email: str, phone: str, text: str, created_at: float) -> int:
        """An earlier conversation of a returning supporter; its thread is marked seeded."""
        with self.lock:
            conversation = self._open(mailbox_id, email, phone, f"SMS from {phone}", "phone", created_at)
            conversation.threads.append(Thread(next(self._thread_ids), conversation.id, "customer", text,
                                               created_at, seeded=True))
            return conversation.id

    def seed_agent_reply(self, conversation_id: int, text: str) -> Thread:
        """An agent's reply written in the web UI (what a ``convo.agent.reply.created`` webhook announces)."""
        with self.lock:
            thread = Thread(next(self._thread_ids), conversation_id, "message", text, self.clock(), seeded=True)
            self.conversations[conversation_id].threads.append(thread)
            return thread

    def all_threads(self) -> list[Thread]:
        with self.lock:
            return [t for c in self.conversations.values() for t in c.threads]

    def snapshot_hits(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; return the base URL."""
        self._server = QuietServer((host, port), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, name="helpscout-double", daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- request handling ---------------------------------------------------

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, headers, body). Thread-safe."""
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        with self.lock:
            if path == "/v2/oauth2/token" and method == "POST":
                status, extra, payload = self._token(headers, body)
                self.hits.append(Hit(self.clock(), method, path, status, 0))
                return status, extra, payload
            if headers.get("Authorization", "") != f"Bearer {TOKEN}":
                self.hits.append(Hit(self.clock(), method, path, 401, 0))
                return _json(401, {"error": "invalid_token",
                                   "error_description": "The access token is invalid or has expired"})
            cost = 2 if method in WRITE_METHODS else 1
            allowed, remaining, retry_after = self.limiter.charge(cost)
            rate = {"X-RateLimit-Limit-Minute": str(self.limiter.limit),
                    "X-RateLimit-Remaining-Minute": str(max(0, remaining))}
            supporters = self._supporters_of(method, path, query, body)
            if not allowed:
                self.hits.append(Hit(self.clock(), method, path, 429, 0, supporters))
                rate["X-RateLimit-Retry-After"] = str(max(1, math.ceil(retry_after)))
                status, extra, payload = _json(429, {"message": "API rate limit exceeded"})
                return status, {**extra, **rate}, payload
            status, extra, payload = self._route(method, path, query, body)
            self.hits.append(Hit(self.clock(), method, path, status, cost, supporters))
        if self.after_write is not None and method in WRITE_METHODS:
            self.after_write(method, path, status)
        if self.latency:
            time.sleep(self.latency)  # after the write: a killed client leaves an ambiguous write
        return status, {**extra, **rate}, payload

    def _token(self, headers, body: bytes):
        text = body.decode("utf-8", "replace")
        try:
            grant = json.loads(text) if text.strip().startswith("{") else {k: v[0] for k, v in parse_qs(text).items()}
        except ValueError:
            grant = {}
        if grant.get("grant_type") != "client_credentials" or not grant.get("client_id") or not grant.get("client_secret"):
            return _json(400, {"error": "invalid_client", "error_description": "Invalid client authentication"})
        self.tokens_issued += 1
        return _json(200, {"token_type": "bearer", "access_token": TOKEN, "expires_in": 172800})

    def _route(self, method: str, path: str, query: dict, body: bytes):
        if path == "/v2/conversations" and method == "GET":
            return self._search(query)
        if path == "/v2/conversations" and method == "POST":
            return self._create_conversation(_load(body))
        match = _THREAD_PATH.match(path)
        if match and method == "POST":
            return self._create_thread(int(match.group(1)), _THREAD_TYPES[match.group(2)], _load(body))
        match = _THREADS_LIST.match(path)
        if match and method == "GET":
            return self._list_threads(int(match.group(1)), query)
        match = _CUSTOMER_PATH.match(path)
        if match and method == "GET":
            return self._get_customer(int(match.group(1)))
        if path == "/v3/customers/search" and method == "GET":
            return self._search_customers(query)
        return _json(404, {"message": f"No route for {method} {path}"})

    def _supporters_of(self, method: str, path: str, query: dict, body: bytes) -> tuple[str, ...]:
        """Which supporters a request concerns, so units can be split by kind of text."""
        if path == "/v3/customers/search":
            text = (query.get("query") or [""])[0]
            return tuple(_unquote(t) for t in _PHONE_QUERY.findall(text) + _EMAIL_QUERY.findall(text))
        if path == "/v2/conversations" and method == "GET":
            found = _EMAIL_QUERY.search((query.get("query") or [""])[0])
            return (_unquote(found.group(1)),) if found else ()
        if path == "/v2/conversations" and method == "POST":
            email = ((_load(body) or {}).get("customer") or {}).get("email")
            return (email,) if email else ()
        match = re.match(r"^/v2/conversations/(\d+)", path)
        conversation = self.conversations.get(int(match.group(1))) if match else None
        return (conversation.email,) if conversation else ()

    def _search(self, query: dict):
        mailboxes = {int(m) for v in query.get("mailbox", []) for m in v.split(",") if m.strip().isdigit()}
        found = _EMAIL_QUERY.search((query.get("query") or [""])[0])
        email = _unquote(found.group(1)) if found else None
        items = [c for c in self.conversations.values()
                 if (not mailboxes or c.mailbox_id in mailboxes) and (email is None or c.email == email)]
        reverse = (query.get("sortOrder") or ["desc"])[0] != "asc"
        items.sort(key=lambda c: (c.created_at, c.id), reverse=reverse)
        return _page(items, query, "conversations", "/v2/conversations", self._conversation_json)

    def _create_conversation(self, data):
        errors = []
        if not isinstance(data, dict):
            return _validation([("", "Error parsing request body into JSON")])
        if not data.get("subject"):
            errors.append(("subject", "may not be empty"))
        if not isinstance(data.get("mailboxId"), int):
            errors.append(("mailboxId", "may not be null"))
        customer = data.get("customer") or {}
        if not customer.get("email") and not customer.get("id"):
            errors.append(("customer", "must contain an id or an email"))
        threads = data.get("threads") or []
        if not threads:
            errors.append(("threads", "may not be empty"))
        if data.get("type", "email") not in ("email", "chat", "phone"):
            errors.append(("type", "Expected one of these: 'email', 'chat', 'phone'"))
        if errors:
            return _validation(errors)
        now = self.clock()
        known = self.customers.get(customer.get("id")) if customer.get("id") else None
        if customer.get("id") and known is None:
            return _validation([("customer.id", "customer not found")])
        conversation = self._open(data["mailboxId"], known.email if known else customer["email"], customer.get("phone"),
                                  data["subject"], data.get("type", "email"), now)
        for thread in threads:
            conversation.threads.append(Thread(next(self._thread_ids), conversation.id,
                                               thread.get("type", "customer"), thread.get("text", ""), now))
        return 201, {"Resource-ID": str(conversation.id),
                     "Location": f"https://api.helpscout.net/v2/conversations/{conversation.id}"}, b""

    def _create_thread(self, conversation_id: int, kind: str, data):
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return _json(404, {"message": "Conversation not found"})
        if not isinstance(data, dict) or not data.get("text"):
            return _validation([("text", "may not be empty")])
        if kind != "note" and not ((data.get("customer") or {}).get("email") or (data.get("customer") or {}).get("id")):
            return _validation([("customer", "must contain an id or an email")])
        if len(conversation.threads) >= THREAD_CAP:
            return _json(412, {"message": "Conversation has reached the maximum number of threads"})
        thread = Thread(next(self._thread_ids), conversation_id, kind, data["text"], self.clock())
        conversation.threads.append(thread)
        return 201, {"Resource-ID": str(thread.id)}, b""

    def _list_threads(self, conversation_id: int, query: dict):
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return _json(404, {"message": "Conversation not found"})
        items = sorted(conversation.threads, key=lambda t: (t.created_at, t.id), reverse=True)
        return _page(items, query, "threads", f"/v2/conversations/{conversation_id}/threads",
                     lambda t: self._thread_json(conversation, t))

    def _get_customer(self, customer_id: int):
        customer = self.customers.get(customer_id)
        if customer is None:
            return _json(404, {"message": "Customer not found"})
        return _json(200, self._customer_json(customer), "application/hal+json")

    def _search_customers(self, query: dict):
        """Customers whose phone has the digits of any ``phone:"…"`` term (E.164 or national)
        or whose e-mail equals any ``email:"…"`` term: the terms are joined by OR."""
        text = (query.get("query") or [""])[0]
        phones = {re.sub(r"\D", "", _unquote(t)) for t in _PHONE_QUERY.findall(text)} - {""}
        emails = {_unquote(t).lower() for t in _EMAIL_QUERY.findall(text)}

        def matches(customer: Customer) -> bool:
            digits = re.sub(r"\D", "", customer.phone or "")
            by_phone = bool(digits) and any(digits.endswith(t) or t.endswith(digits) for t in phones)
            return by_phone or customer.email.lower() in emails

        found = [c for c in self.customers.values() if matches(c)]
        body: dict = {"_embedded": {"customers": [self._customer_json(c) for c in found[:PAGE_SIZE]]}} if found else {}
        body["_links"] = {"self": {"href": "https://api.helpscout.net/v3/customers/search"}}
        return _json(200, body, "application/hal+json")

    def _customer_json(self, customer: Customer) -> dict:
        """A customer with its e-mails and phones; an empty list is left out, as Help Scout does."""
        embedded = {"emails": [{"id": customer.id, "value": customer.email, "type": "work"}]}
        if customer.phone:
            embedded["phones"] = [{"id": customer.id, "value": customer.phone, "type": "mobile"}]
        return {"id": customer.id, "firstName": "", "lastName": "", "_embedded": embedded,
                "_links": {"self": {"href": f"https://api.helpscout.net/v2/customers/{customer.id}"}}}

    # -- state helpers (caller holds the lock) ------------------------------

    def _open(self, mailbox_id, email, phone, subject, kind, created_at) -> Conversation:
        customer = self.customers_by_email.get(email)
        if customer is None:
            customer = Customer(next(self._ids), email, phone)
            self.customers[customer.id] = self.customers_by_email[email] = customer
        conversation = Conversation(next(self._ids), mailbox_id, customer.id, email, subject, kind, created_at)
        self.conversations[conversation.id] = conversation
        return conversation

    def _conversation_json(self, c: Conversation) -> dict:
        first = c.threads[0] if c.threads else None
        return {"id": c.id, "number": c.id, "threads": len(c.threads), "type": c.type, "folderId": 1,
                "status": "active", "state": "published", "subject": c.subject,
                "preview": (first.text[:80] if first else ""), "mailboxId": c.mailbox_id,
                "createdBy": {"id": c.customer_id, "type": "customer", "email": c.email},
                "createdAt": iso(c.created_at), "source": {"type": "api", "via": "customer"},
                "primaryCustomer": {"id": c.customer_id}, "tags": [], "cc": [], "bcc": [], "customFields": [],
                "_links": {"self": {"href": f"https://api.helpscout.net/v2/conversations/{c.id}"},
                           "threads": {"href": f"https://api.helpscout.net/v2/conversations/{c.id}/threads"}}}

    def _thread_json(self, c: Conversation, t: Thread) -> dict:
        by_customer = t.type in ("customer", "phone")
        author = ({"id": c.customer_id, "type": "customer", "email": c.email} if by_customer
                  else {"id": 1, "type": "user", "email": "bling@example.org"})
        return {"id": t.id, "type": t.type, "status": "active", "state": "published",
                "body": html.escape(t.text).replace("\n", "<br>"),
                "source": {"type": "api", "via": "customer" if by_customer else "user"},
                "customer": {"id": c.customer_id, "email": c.email}, "createdBy": author,
                "createdAt": iso(t.created_at)}


# -- wire helpers -------------------------------------------------------------


def _unquote(value: str) -> str:
    """A double-quoted query term's value (Bling escapes ``\\`` and ``"``)."""
    return re.sub(r"\\(.)", r"\1", value)


def _load(body: bytes):
    try:
        return json.loads(body.decode("utf-8")) if body else None
    except ValueError:
        return None


def _json(status: int, payload: dict, content_type: str = "application/json; charset=utf-8"):
    return status, {"Content-Type": content_type}, json.dumps(payload).encode()


def _validation(errors: list[tuple[str, str]]):
    body = {"logRef": "bench", "message": "Bad request",
            "_embedded": {"errors": [{"path": p, "message": m, "source": "JSON"} for p, m in errors]}}
    return 400, {"Content-Type": "application/vnd.error+json"}, json.dumps(body).encode()


def _page(items: list, query: dict, key: str, path: str, render) -> tuple[int, dict, bytes]:
    """A HAL page of 25; ``_embedded`` is left out when the page is empty, as Help Scout does."""
    try:
        number = max(1, int((query.get("page") or ["1"])[0]))
    except ValueError:
        number = 1
    total_pages = max(1, math.ceil(len(items) / PAGE_SIZE))
    chunk = items[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    base = "https://api.helpscout.net" + path
    links = {"self": {"href": base}, "first": {"href": f"{base}?page=1"},
             "last": {"href": f"{base}?page={total_pages}"},
             "page": {"href": base + "{?page}", "templated": True}}
    if number < total_pages:
        links["next"] = {"href": f"{base}?page={number + 1}"}
    body: dict = {}
    if chunk:
        body["_embedded"] = {key: [render(item) for item in chunk]}
    body["page"] = {"size": PAGE_SIZE, "totalElements": len(items), "totalPages": total_pages, "number": number}
    body["_links"] = links
    return _json(200, body, "application/hal+json")


class QuietServer(ThreadingHTTPServer):
    """A client that dies mid-request (the SIGKILLed worker) is expected here, not an error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(double: HelpScoutDouble):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind Kong

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = double.handle(self.command, self.path, self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format, *args):  # the double's own log is the hits list
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--limit", type=int, default=200, help="units per minute for the account")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to each answer")
    args = parser.parse_args()
    double = HelpScoutDouble(args.limit, args.latency)
    print(f"Help Scout double on {double.start(port=args.port)} ({args.limit} units/minute)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
