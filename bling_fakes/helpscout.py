"""A fake Help Scout Mailbox API 2.0: the calls Bling makes, with the real wire shapes.

One implementation for the sandbox (mounted under /sandbox/helpscout, its
state in Bling's store), the benchmark and tests (served on a loopback
port, state in memory). What differs between them is an option, not a copy:

* ``limit_per_minute``: Help Scout's account-wide rate limit and its
  accounting (``hits``), for the benchmark (bling_fakes/accounting.py);
  without it every answer says 400 a minute with room to spare;
* ``client_id``/``client_secret``: the credentials the token endpoint
  accepts (the sandbox's generated ones); without them any pair is taken;
* ``mailboxes``: the account's mailboxes (the sandbox's two); without them
  any id is one;
* ``latency``: seconds added to each answer, *after* a write is applied,
  and ``after_write``: called between the two. A client killed then leaves
  a write it never heard about, the ambiguous case Bling must resolve
  without posting twice (the benchmark kills a worker there).

Wire shapes follow docs/reference/helpscout.md: OAuth client credentials,
HAL lists (``_embedded`` omitted when empty, 25 a page, newest first),
201 with ``Resource-ID`` and an empty body for creates, 204 for
PUT/PATCH/DELETE, vnd.error bodies for 400s, 412 at 100 threads, 401 for a
bad token, 429 with ``X-RateLimit-Retry-After``. Thread ``text`` is HTML
(Bling escapes what it sends) and reads back unchanged as ``body``. A
conversation for an e-mail the account has not seen creates that customer
(with the ``phone`` sent), so a later customer search finds it. Only what
Bling uses is implemented; anything else answers 404.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from bling_fakes.accounting import WRITE_METHODS, Hit, RateLimiter, cost_of
from bling_fakes.http import Reply, Servable
from bling_fakes.state import AGENT, Conversation, FakeState, Thread

API_URL = "https://api.helpscout.net"
PAGE_SIZE = 25
THREAD_CAP = 100
TOKEN_PATH = "/v2/oauth2/token"
_EMAIL_QUERY = re.compile(r'email:"((?:[^"\\]|\\.)*)"')
_PHONE_QUERY = re.compile(r'phone:"((?:[^"\\]|\\.)*)"')
_THREAD_KINDS = {"customer": "customer", "phones": "phone", "notes": "note", "reply": "message", "chats": "chat"}
_CREATE_TYPES = {"customer": "customer", "phone": "phone", "note": "note", "reply": "message", "chat": "chat"}
_JSON = "application/json; charset=utf-8"


def iso(moment: float) -> str:
    """Help Scout's timestamp format, e.g. 2017-03-31T23:30:01Z."""
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unquote(value: str) -> str:
    """A double-quoted query term's value (Bling escapes ``\\`` and ``"``)."""
    return re.sub(r"\\(.)", r"\1", value)


class _Answer(Exception):
    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _invalid(path: str, message: str) -> _Answer:
    return _Answer(400, {"logRef": "fake", "message": "Bad request", "_embedded": {"errors": [
        {"path": path, "message": message, "source": "JSON"}]}}, {"Content-Type": "application/vnd.error+json"})


def _reply(status: int, body: dict | None, headers: dict) -> Reply:
    headers = dict(headers)
    if body is None:
        return Reply(status, headers, b"")
    headers.setdefault("Content-Type", "application/hal+json")
    return Reply(status, headers, json.dumps(body).encode())


class HelpScoutFake(Servable):
    """A fake Help Scout account over a ``FakeState`` (see the module docstring for the options)."""

    def __init__(self, state: FakeState | None = None, *, base_url: str = API_URL, client_id: str | None = None,
                 client_secret: str | None = None, mailboxes: dict[int, str] | None = None,
                 limit_per_minute: int | None = None, latency: float = 0.0, clock=time.time):
        self.state = state if state is not None else FakeState.in_memory()
        self.base = base_url.rstrip("/")
        self.credentials = (client_id, client_secret) if client_id else None
        self.mailboxes = mailboxes
        self.limiter = RateLimiter(limit_per_minute, clock) if limit_per_minute else None
        self.hits: list[Hit] = []  # kept only with a rate limit (the benchmark's accounting)
        self.latency, self.clock = latency, clock
        self.tokens_issued = 0
        #: Called as ``after_write(method, path, status)`` once a write is applied and before it is answered.
        self.after_write = None
        self.lock = threading.Lock()  # the limit's charge and the write it pays for happen together

    # -- what the benchmark and tests read and seed (not HTTP) ---------------------------------

    @property
    def conversations(self) -> dict[int, Conversation]:
        return self.state.all_conversations()

    def all_threads(self) -> list[Thread]:
        return self.state.all_threads()

    def snapshot_hits(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def seed_conversation(self, mailbox_id: int, email: str, phone: str | None, text: str, created_at: float) -> int:
        """An earlier conversation of a returning supporter (its customer too), made in Help Scout's UI."""
        customer = self.state.ensure_customer({"email": email, "phone": phone})
        conversation_id = self.state.create_conversation(mailbox_id, customer["id"], f"SMS from {phone}", "phone",
                                                         "active", [], created_at=created_at)
        self.state.add_thread(conversation_id, "customer", text, "customer", "web", created_at=created_at)
        return conversation_id

    def agent_reply(self, conversation_id: int, body: str) -> Thread:
        """An agent's reply written in the web UI (what a ``convo.agent.reply.created`` webhook announces)."""
        thread_id = self.state.add_thread(conversation_id, "message", body, "user", "web")
        return next(t for t in self.state.all_conversations()[conversation_id].threads if t.id == thread_id)

    # -- HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request (``headers`` with lower-case names). Thread-safe."""
        path = path.rstrip("/") or "/"
        rate = {"X-RateLimit-Limit-Minute": "400", "X-RateLimit-Remaining-Minute": "399"}
        with self.lock:
            if path == TOKEN_PATH and method == "POST":
                reply = self._answer(lambda: self.token(body), rate)
                self._record(method, path, reply.status, 0)
                return reply
            auth = headers.get("authorization") or ""
            if not auth.startswith("Bearer ") or not self.state.token_valid(auth[len("Bearer "):]):
                self._record(method, path, 401, 0)
                return _reply(401, {"error": "invalid_token", "error_description": "The access token is invalid or has expired"},
                              {**rate, "Content-Type": _JSON})
            cost = cost_of(method)
            supporters = self._supporters_of(method, path, query, body) if self.limiter else ()
            if self.limiter:
                allowed, remaining, retry_after = self.limiter.charge(cost)
                rate = {"X-RateLimit-Limit-Minute": str(self.limiter.limit),
                        "X-RateLimit-Remaining-Minute": str(max(0, remaining))}
                if not allowed:
                    self._record(method, path, 429, 0, supporters)
                    return _reply(429, {"message": "API rate limit exceeded"}, {
                        **rate, "X-RateLimit-Retry-After": str(max(1, math.ceil(retry_after))), "Content-Type": _JSON})
            reply = self._answer(lambda: self.route(method, path, query, _load(body, method)), rate)
            self._record(method, path, reply.status, cost, supporters)
        if self.after_write is not None and method in WRITE_METHODS:
            self.after_write(method, path, reply.status)
        if self.latency:
            time.sleep(self.latency)  # after the write: a killed client leaves an ambiguous write
        return reply

    def _answer(self, handler, rate: dict) -> Reply:
        try:
            status, body, headers = handler()
        except _Answer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
        return _reply(status, body, {**rate, **headers})

    def _record(self, method: str, path: str, status: int, units: int, supporters: tuple[str, ...] = ()) -> None:
        if self.limiter:
            self.hits.append(Hit(self.clock(), method, path, status, units, supporters))

    def route(self, method: str, path: str, params: dict, body):
        routes = [
            ("GET", r"/v2/conversations", lambda m: self.list_conversations(params)),
            ("POST", r"/v2/conversations", lambda m: self.create_conversation(body)),
            ("GET", r"/v2/conversations/(\d+)", lambda m: (200, self.conversation_json(
                self._conversation(m[1]), params.get("embed") == "threads"), {})),
            ("PATCH", r"/v2/conversations/(\d+)", lambda m: self.patch_conversation(m[1], body)),
            ("GET", r"/v2/conversations/(\d+)/threads", lambda m: self.list_threads(m[1], params)),
            ("POST", r"/v2/conversations/(\d+)/(customer|phones|notes|reply|chats)",
             lambda m: self.create_thread(m[1], m[2], body)),
            ("PUT", r"/v2/conversations/(\d+)/tags", lambda m: self.put_tags(m[1], body)),
            ("GET", r"/v2/customers/(\d+)", lambda m: (200, self.customer_json(self._customer(m[1])), {})),
            ("GET", r"/v3/customers/search", lambda m: self.search_customers(params)),
            ("GET", r"/v2/mailboxes/(\d+)", lambda m: self.get_mailbox(m[1])),
            ("GET", r"/v2/webhooks", lambda m: (200, self._hal("webhooks", "/v2/webhooks", self.state.webhooks(), params), {})),
            ("POST", r"/v2/webhooks", lambda m: self.create_webhook(body)),
            ("PUT", r"/v2/webhooks/(\d+)", lambda m: self.put_webhook(m[1], body)),
            ("DELETE", r"/v2/webhooks/(\d+)", lambda m: self.delete_webhook(m[1])),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return handler(match)
        raise _Answer(404, {"message": f"Resource not found: {method} {path} (the fake implements only what Bling uses)"})

    def _supporters_of(self, method: str, path: str, query: dict, body: bytes) -> tuple[str, ...]:
        """Which supporters a request concerns, so the benchmark can split units by kind of text."""
        if path == "/v3/customers/search":
            text = query.get("query", "")
            return tuple(_unquote(t) for t in _PHONE_QUERY.findall(text) + _EMAIL_QUERY.findall(text))
        if path == "/v2/conversations" and method == "GET":
            found = _EMAIL_QUERY.search(query.get("query", ""))
            return (_unquote(found.group(1)),) if found else ()
        if path == "/v2/conversations" and method == "POST":
            try:
                data = _load(body, method)
            except _Answer:
                data = None
            email = ((data if isinstance(data, dict) else {}).get("customer") or {}).get("email")
            return (email,) if email else ()
        match = re.match(r"^/v2/conversations/(\d+)", path)
        conversation = self.state.conversation(int(match.group(1))) if match else None
        customer = self.state.customer(customer_id=conversation["customer_id"]) if conversation else None
        return (customer["email"],) if customer and customer.get("email") else ()

    # -- auth --------------------------------------------------------------------------------------

    def token(self, body: bytes):
        text = body.decode("utf-8", "replace")
        try:
            grant = json.loads(text) if text.strip().startswith("{") else dict(parse_qsl(text))
        except ValueError:
            grant = {}
        if grant.get("grant_type") != "client_credentials" or not grant.get("client_id") or not grant.get("client_secret"):
            raise _Answer(400, {"error": "invalid_client", "error_description": "Invalid client authentication"},
                          {"Content-Type": _JSON})
        if self.credentials and (grant["client_id"], grant["client_secret"]) != self.credentials:
            raise _Answer(401, {"error": "invalid_client", "error_description": "Invalid client authentication"},
                          {"Content-Type": _JSON})
        self.tokens_issued += 1
        return 200, {"token_type": "bearer", "access_token": self.state.issue_token(), "expires_in": 172800}, {
            "Content-Type": _JSON}

    # -- conversations ---------------------------------------------------------------------------------

    def list_conversations(self, params):
        mailboxes = {int(m) for m in str(params.get("mailbox", "")).split(",") if m.strip().isdigit()}
        status = params.get("status", "active")
        customer_id = None
        match = _EMAIL_QUERY.search(params.get("query", ""))
        if match:
            found = self.state.customer(email=_unquote(match[1]))
            if found is None:
                return 200, self._hal("conversations", "/v2/conversations", [], params), {}
            customer_id = found["id"]
        items = [c for c in self.state.conversations_of(customer_id=customer_id)
                 if (not mailboxes or c["mailbox_id"] in mailboxes) and (status == "all" or c["status"] == status)]
        if params.get("sortOrder") == "asc":
            items.reverse()
        return 200, self._hal("conversations", "/v2/conversations", [self.conversation_json(c) for c in items], params), {}

    def create_conversation(self, body):
        if not isinstance(body, dict):
            raise _invalid("", "Error parsing request body into JSON")
        for key in ("subject", "customer", "mailboxId", "type", "status", "threads"):
            if not body.get(key):
                raise _invalid(key, "may not be empty")
        if not isinstance(body["mailboxId"], int):
            raise _invalid("mailboxId", "must be a number")
        if body["type"] not in ("email", "chat", "phone"):
            raise _invalid("type", "Expected one of these: 'email', 'chat', 'phone'")
        if self.mailboxes is not None and body["mailboxId"] not in self.mailboxes:
            raise _invalid("mailboxId", f"Invalid mailbox id (the account has {', '.join(map(str, self.mailboxes))})")
        customer = self._customer_for(body["customer"], "customer")
        conversation_id = self.state.create_conversation(body["mailboxId"], customer["id"], body["subject"],
                                                         body["type"], body["status"], list(body.get("tags") or []))
        for index, thread in enumerate(body["threads"]):
            kind = _CREATE_TYPES.get(thread.get("type", ""))
            if kind is None:
                raise _invalid(f"threads[{index}].type", "must be one of customer, reply, note, phone, chat")
            self._add_thread(conversation_id, kind, thread)
        return 201, None, {"Resource-ID": str(conversation_id), "Location": f"{self.base}/v2/conversations/{conversation_id}"}

    def patch_conversation(self, conversation_id, body):
        self._conversation(conversation_id)
        for op in body if isinstance(body, list) else [body]:
            if isinstance(op, dict) and op.get("path") == "/status":
                self.state.update_conversation(int(conversation_id), status=op.get("value"))
        return 204, None, {}

    def put_tags(self, conversation_id, body):
        self._conversation(conversation_id)
        self.state.update_conversation(int(conversation_id), tags=json.dumps(list((body or {}).get("tags") or [])))
        return 204, None, {}

    def list_threads(self, conversation_id, params):
        conversation = self._conversation(conversation_id)
        items = [self.thread_json(t, conversation) for t in self.state.threads_of(conversation["id"])]
        return 200, self._hal("threads", f"/v2/conversations/{conversation['id']}/threads", items, params), {}

    def create_thread(self, conversation_id, kind, body):
        conversation = self._conversation(conversation_id)
        if not isinstance(body, dict) or not body.get("text"):
            raise _invalid("text", "may not be empty")
        if kind != "notes":
            self._customer_for(body.get("customer"), "customer")
        if self.state.thread_count(conversation["id"]) >= THREAD_CAP:
            raise _Answer(412, {"message": "Conversation has reached the maximum number of threads"}, {"Content-Type": _JSON})
        thread_id = self._add_thread(conversation["id"], _THREAD_KINDS[kind], body)
        return 201, None, {"Resource-ID": str(thread_id)}

    def _add_thread(self, conversation_id: int, kind: str, body: dict) -> int:
        by_user = kind in ("note", "message")
        if not by_user and body.get("customer"):
            self._customer_for(body["customer"], "customer")
        reopen = kind == "customer" and not body.get("imported")
        return self.state.add_thread(conversation_id, kind, body.get("text", ""), "user" if by_user else "customer",
                                     "api", body.get("attachments"), reopen=reopen)

    # -- customers, mailboxes -----------------------------------------------------------------------------

    def search_customers(self, params):
        """Customers whose phone has the digits of any ``phone:"…"`` term (E.164 or national) or whose
        e-mail equals any ``email:"…"`` term: the terms are joined by OR."""
        text = params.get("query", "")
        phones = {re.sub(r"\D", "", _unquote(t)) for t in _PHONE_QUERY.findall(text)} - {""}
        emails = {_unquote(t).lower() for t in _EMAIL_QUERY.findall(text)}

        def matches(customer: dict) -> bool:
            digits = re.sub(r"\D", "", customer.get("phone") or "")
            by_phone = bool(digits) and any(digits.endswith(t) or t.endswith(digits) for t in phones)
            return by_phone or (customer.get("email") or "").lower() in emails

        items = [self.customer_json(c) for c in self.state.all_customers() if matches(c)][:PAGE_SIZE]
        body = {"_embedded": {"customers": items}} if items else {}
        body["_links"] = {"self": {"href": f"{self.base}/v3/customers/search"}}
        return 200, body, {}

    def get_mailbox(self, mailbox_id):
        mailbox_id = int(mailbox_id)
        name = f"Mailbox {mailbox_id}" if self.mailboxes is None else self.mailboxes.get(mailbox_id)
        if name is None:
            raise _Answer(404, {"logRef": "fake", "message": "Resource not found", "_embedded": {"errors": []}})
        return 200, {"id": mailbox_id, "name": name, "slug": f"{mailbox_id:x}",
                     "email": f"hotline-{mailbox_id}@sandbox.invalid", "createdAt": "2026-01-01T00:00:00Z",
                     "updatedAt": "2026-01-01T00:00:00Z",
                     "_links": {"self": {"href": f"{self.base}/v2/mailboxes/{mailbox_id}"}}}, {}

    # -- webhooks -------------------------------------------------------------------------------------------

    def create_webhook(self, body):
        self._check_webhook(body)
        return 201, None, {"Resource-ID": str(self.state.add_webhook(body))}

    def put_webhook(self, webhook_id, body):
        self._check_webhook(body)
        if not self.state.put_webhook(int(webhook_id), body):
            raise _Answer(404, {"message": "Resource not found"})
        return 204, None, {}

    def delete_webhook(self, webhook_id):
        if not self.state.delete_webhook(int(webhook_id)):
            raise _Answer(404, {"message": "Resource not found"})
        return 204, None, {}

    def _check_webhook(self, body):
        if not isinstance(body, dict):
            raise _invalid("", "Error parsing request body into JSON")
        for key in ("url", "events", "secret"):
            if not body.get(key):
                raise _invalid(key, "may not be empty")
        if len(body["secret"]) > 40:
            raise _invalid("secret", "size must be between 0 and 40")

    # -- representations --------------------------------------------------------------------------------------

    def conversation_json(self, conversation: dict, embed_threads: bool = False) -> dict:
        customer = self.state.customer(customer_id=conversation["customer_id"]) or {}
        threads = self.state.threads_of(conversation["id"])
        cid = conversation["id"]
        found = {
            "id": cid, "number": cid, "threads": len(threads), "type": conversation["type"], "folderId": 1,
            "status": conversation["status"], "state": "published", "subject": conversation["subject"],
            "preview": (threads[0]["body"] if threads else "")[:80], "mailboxId": conversation["mailbox_id"],
            "createdBy": {"id": customer.get("id"), "type": "customer", "email": customer.get("email")},
            "createdAt": iso(conversation["created_at"]), "userUpdatedAt": iso(conversation["updated_at"]),
            "source": {"type": "api", "via": "customer"},
            "tags": [{"id": i + 1, "color": "#929499", "tag": t} for i, t in enumerate(json.loads(conversation["tags"]))],
            "cc": [], "bcc": [], "primaryCustomer": self._customer_ref(customer), "customFields": [],
            "_links": {"mailbox": {"href": f"{self.base}/v2/mailboxes/{conversation['mailbox_id']}"},
                       "primaryCustomer": {"href": f"{self.base}/v2/customers/{customer.get('id')}"},
                       "threads": {"href": f"{self.base}/v2/conversations/{cid}/threads"},
                       "self": {"href": f"{self.base}/v2/conversations/{cid}"}},
        }
        if embed_threads:
            found["_embedded"] = {"threads": [self.thread_json(t, conversation, customer) for t in threads]}
        return found

    def thread_json(self, thread: dict, conversation: dict, customer: dict | None = None) -> dict:
        customer = customer if customer is not None else (self.state.customer(customer_id=conversation["customer_id"]) or {})
        by_user = thread["by_type"] == "user"
        created_by = dict(AGENT) if by_user else {"id": customer.get("id"), "type": "customer", "email": customer.get("email")}
        return {"id": thread["id"], "type": thread["type"], "status": "active", "state": "published",
                "body": thread["body"], "source": {"type": thread["source_type"], "via": thread["by_type"]},
                "customer": {"id": customer.get("id"), "email": customer.get("email")}, "createdBy": created_by,
                "createdAt": iso(thread["created_at"]),
                "_embedded": {"attachments": [{"id": i + 1, "filename": a.get("fileName"), "mimeType": a.get("mimeType")}
                                              for i, a in enumerate(thread["attachments"])]}}

    def customer_json(self, customer: dict) -> dict:
        """A customer with its e-mails and phones; an empty list is left out, as Help Scout does."""
        embedded = {}
        if customer.get("email"):
            embedded["emails"] = [{"id": 1, "value": customer["email"], "type": "other"}]
        if customer.get("phone"):
            embedded["phones"] = [{"id": 1, "value": customer["phone"], "type": "mobile"}]
        return {"id": customer["id"], "firstName": customer.get("first_name", ""), "lastName": customer.get("last_name", ""),
                "photoType": "unknown", "createdAt": iso(customer["created_at"]), "updatedAt": iso(customer["created_at"]),
                "_embedded": embedded, "_links": {"self": {"href": f"{self.base}/v2/customers/{customer['id']}"}}}

    def _customer_ref(self, customer: dict) -> dict:
        ref = {"id": customer.get("id"), "type": "customer", "first": customer.get("first_name", ""),
               "last": customer.get("last_name", ""), "email": customer.get("email")}
        if customer.get("phone"):
            ref["phone"] = customer["phone"]
        return ref

    def _hal(self, key: str, path: str, items: list, params) -> dict:
        """A HAL page of 25; ``_embedded`` is left out when the page is empty, as Help Scout does."""
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        chunk = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        total_pages = max(1, math.ceil(len(items) / PAGE_SIZE))
        base = self.base + path
        links = {"self": {"href": base}, "first": {"href": f"{base}?page=1"}, "last": {"href": f"{base}?page={total_pages}"},
                 "page": {"href": base + "{?page}", "templated": True}}
        if page < total_pages:
            links["next"] = {"href": f"{base}?page={page + 1}"}
        body: dict = {"_embedded": {key: chunk}} if chunk else {}
        body["page"] = {"size": PAGE_SIZE, "totalElements": len(items), "totalPages": total_pages, "number": page}
        body["_links"] = links
        return body

    # -- helpers ----------------------------------------------------------------------------------------------

    def _conversation(self, conversation_id) -> dict:
        found = self.state.conversation(int(conversation_id))
        if found is None:
            raise _Answer(404, {"message": "Resource not found"})
        return found

    def _customer(self, customer_id) -> dict:
        found = self.state.customer(customer_id=int(customer_id))
        if found is None:
            raise _Answer(404, {"logRef": "fake", "message": "Resource not found", "_embedded": {"errors": []}})
        return found

    def _customer_for(self, spec, where: str) -> dict:
        """The customer a request names (by id, or by e-mail: created when new, as Help Scout does)."""
        if not isinstance(spec, dict) or not (spec.get("id") or spec.get("email")):
            raise _invalid(where, "Must contain a valid customer id or an email address")
        if spec.get("id") and not spec.get("email") and self.state.customer(customer_id=int(spec["id"])) is None:
            raise _invalid(f"{where}.id", "customer not found")
        return self.state.ensure_customer(spec)


def _load(body: bytes, method: str):
    """The JSON body of a write (None when empty); a body that is not JSON is a 400, as Help Scout answers."""
    if method not in ("POST", "PUT", "PATCH") or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise _invalid("", "Error parsing request body into JSON") from None
