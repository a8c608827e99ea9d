"""A stand-in for the Help Scout Mailbox API calls Bling makes, under /sandbox/helpscout.

Wire shapes follow docs/reference/helpscout.md: OAuth client credentials,
HAL lists (``_embedded`` omitted when empty, 25 a page), 201 with
``Resource-ID`` and an empty body for creates, 204 for PUT/PATCH/DELETE,
vnd.error bodies for 400s, 412 at 100 threads, 401 for a bad token.
Only what Bling uses is implemented; anything else answers 404.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl

import falcon

from bling_fakes.sandbox.state import AGENT, SandboxState

PAGE_SIZE = 25
THREAD_CAP = 100
_EMAIL_QUERY = re.compile(r'email:"((?:[^"\\]|\\.)*)"')
_PHONE_QUERY = re.compile(r'phone:"((?:[^"\\]|\\.)*)"')
_THREAD_KINDS = {"customer": "customer", "phones": "phone", "notes": "note", "reply": "message", "chats": "chat"}
_CREATE_TYPES = {"customer": "customer", "phone": "phone", "note": "note", "reply": "message", "chat": "chat"}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Answer(Exception):
    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _invalid(path: str, message: str) -> _Answer:
    return _Answer(400, {"logRef": "sandbox", "message": "Bad request", "_embedded": {"errors": [
        {"path": path, "message": message, "source": "JSON"}]}}, {"Content-Type": "application/vnd.error+json"})


class HelpScoutStandIn:
    """Falcon sink: routes /sandbox/helpscout/v2/… requests to handlers."""

    def __init__(self, state: SandboxState, settings):
        self.state, self.settings = state, settings
        self.base = settings.helpscout_api_url.rstrip("/")

    def __call__(self, req, resp, **_kwargs):
        path = req.path[len("/sandbox/helpscout"):] or "/"
        try:
            status, body, headers = self.route(req.method, path, req)
        except _Answer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
        resp.status = falcon.code_to_http_status(status)
        resp.set_header("X-RateLimit-Limit-Minute", "400")
        resp.set_header("X-RateLimit-Remaining-Minute", "399")
        for name, value in headers.items():
            resp.set_header(name, value)
        if body is not None:
            resp.content_type = headers.get("Content-Type", "application/hal+json")
            resp.text = json.dumps(body)

    # -- dispatch ------------------------------------------------------------------

    def route(self, method: str, path: str, req):
        if path == "/v2/oauth2/token" and method == "POST":
            return self.token(req)
        auth = req.get_header("Authorization") or ""
        if not auth.startswith("Bearer ") or not self.state.token_valid(auth[len("Bearer "):]):
            raise _Answer(401, {"error": "invalid_token", "error_description": "The access token is invalid or has expired"},
                          {"Content-Type": "application/json; charset=utf-8"})
        body = self._json(req) if method in ("POST", "PUT", "PATCH") else None
        params = dict(req.params)
        routes = [
            ("GET", r"/v2/conversations", lambda m: self.list_conversations(params)),
            ("POST", r"/v2/conversations", lambda m: self.create_conversation(body)),
            ("GET", r"/v2/conversations/(\d+)", lambda m: (200, self.conversation_json(self._conversation(m[1]), params.get("embed") == "threads"), {})),
            ("PATCH", r"/v2/conversations/(\d+)", lambda m: self.patch_conversation(m[1], body)),
            ("GET", r"/v2/conversations/(\d+)/threads", lambda m: self.list_threads(m[1], params)),
            ("POST", r"/v2/conversations/(\d+)/(customer|phones|notes|reply|chats)", lambda m: self.create_thread(m[1], m[2], body)),
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
        raise _Answer(404, {"message": f"Resource not found: {method} {path} (the sandbox implements only what Bling uses)"})

    # -- auth ----------------------------------------------------------------------------

    def token(self, req):
        raw = req.bounded_stream.read().decode("utf-8")
        data = json.loads(raw) if raw.strip().startswith("{") else dict(parse_qsl(raw))
        if (data.get("client_id") != self.settings.helpscout_client_id
                or data.get("client_secret") != self.settings.helpscout_client_secret):
            raise _Answer(401, {"error": "invalid_client", "error_description": "Invalid client authentication"},
                          {"Content-Type": "application/json; charset=utf-8"})
        return 200, {"token_type": "bearer", "access_token": self.state.issue_token(), "expires_in": 172800}, {
            "Content-Type": "application/json; charset=utf-8"}

    # -- conversations ----------------------------------------------------------------------

    def list_conversations(self, params):
        mailboxes = {int(m) for m in str(params.get("mailbox", "")).split(",") if m.strip().isdigit()}
        status = params.get("status", "active")
        customer_id = None
        match = _EMAIL_QUERY.search(params.get("query", ""))
        if match:
            found = self.state.customer(email=match[1].replace('\\"', '"'))
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
        if self.state.mailbox_name(int(body["mailboxId"])) is None:
            raise _invalid("mailboxId", "Invalid mailbox id (the sandbox has 1001 and 1002)")
        customer = self._customer_for(body["customer"], "customer")
        conversation_id = self.state.create_conversation(int(body["mailboxId"]), customer["id"], body["subject"],
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
        if self.state.thread_count(conversation["id"]) >= THREAD_CAP:
            raise _Answer(412, {"message": "Conversation has reached the maximum number of threads"},
                          {"Content-Type": "application/json; charset=utf-8"})
        thread_id = self._add_thread(conversation["id"], _THREAD_KINDS[kind], body)
        return 201, None, {"Resource-ID": str(thread_id)}

    def _add_thread(self, conversation_id: int, kind: str, body: dict) -> int:
        by_user = kind in ("note", "message")
        if not by_user and body.get("customer"):
            self._customer_for(body["customer"], "customer")
        reopen = kind == "customer" and not body.get("imported")
        return self.state.add_thread(conversation_id, kind, body.get("text", ""), "user" if by_user else "customer",
                                     "api", body.get("attachments"), reopen=reopen)

    # -- customers, mailboxes ----------------------------------------------------------------

    def search_customers(self, params):
        phones = _PHONE_QUERY.findall(params.get("query", ""))
        items = [self.customer_json(c) for c in self.state.customers_with_phones(phones)]
        body = {"_embedded": {"customers": items}} if items else {}
        body["_links"] = {"self": {"href": f"{self.base}/v3/customers/search"}}
        return 200, body, {}

    def get_mailbox(self, mailbox_id):
        name = self.state.mailbox_name(int(mailbox_id))
        if name is None:
            raise _Answer(404, {"logRef": "sandbox", "message": "Resource not found", "_embedded": {"errors": []}})
        return 200, {"id": int(mailbox_id), "name": name, "slug": f"{int(mailbox_id):x}",
                     "email": f"hotline-{mailbox_id}@sandbox.invalid", "createdAt": "2026-01-01T00:00:00Z",
                     "updatedAt": "2026-01-01T00:00:00Z",
                     "_links": {"self": {"href": f"{self.base}/v2/mailboxes/{mailbox_id}"}}}, {}

    # -- webhooks ------------------------------------------------------------------------------

    def create_webhook(self, body):
        self._check_webhook(body)
        webhook_id = self.state.add_webhook(body)
        return 201, None, {"Resource-ID": str(webhook_id)}

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

    # -- representations ---------------------------------------------------------------------------

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
        emails = [{"id": 1, "value": customer["email"], "type": "other"}] if customer.get("email") else []
        phones = [{"id": 1, "value": customer["phone"], "type": "mobile"}] if customer.get("phone") else []
        return {"id": customer["id"], "firstName": customer.get("first_name", ""), "lastName": customer.get("last_name", ""),
                "photoType": "unknown", "createdAt": iso(customer["created_at"]), "updatedAt": iso(customer["created_at"]),
                "_embedded": {"emails": emails, "phones": phones, "chats": [], "social_profiles": [], "websites": []},
                "_links": {"self": {"href": f"{self.base}/v2/customers/{customer['id']}"}}}

    def _customer_ref(self, customer: dict) -> dict:
        ref = {"id": customer.get("id"), "type": "customer", "first": customer.get("first_name", ""),
               "last": customer.get("last_name", ""), "email": customer.get("email")}
        if customer.get("phone"):
            ref["phone"] = customer["phone"]
        return ref

    def _hal(self, key: str, path: str, items: list, params) -> dict:
        page = max(1, int(params.get("page") or 1))
        chunk = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        total_pages = (len(items) + PAGE_SIZE - 1) // PAGE_SIZE
        body: dict = {"page": {"size": PAGE_SIZE, "totalElements": len(items), "totalPages": total_pages, "number": page},
                      "_links": {"self": {"href": self.base + path}, "page": {"href": self.base + path + "{?page}", "templated": True}}}
        if chunk:
            body = {"_embedded": {key: chunk}, **body}
        if page < total_pages:
            body["_links"]["next"] = {"href": f"{self.base}{path}?page={page + 1}"}
        return body

    # -- helpers ------------------------------------------------------------------------------------

    def _json(self, req):
        raw = req.bounded_stream.read()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _invalid("", "Error parsing request body into JSON") from None

    def _conversation(self, conversation_id) -> dict:
        found = self.state.conversation(int(conversation_id))
        if found is None:
            raise _Answer(404, {"message": "Resource not found"})
        return found

    def _customer(self, customer_id) -> dict:
        found = self.state.customer(customer_id=int(customer_id))
        if found is None:
            raise _Answer(404, {"logRef": "sandbox", "message": "Resource not found", "_embedded": {"errors": []}})
        return found

    def _customer_for(self, spec: dict, where: str) -> dict:
        if not isinstance(spec, dict) or not (spec.get("id") or spec.get("email")):
            raise _invalid(where, "Must contain a valid customer id or an email address")
        return self.state.ensure_customer(spec)
