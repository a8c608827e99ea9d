"""The sandbox page (/sandbox): hotlines, supporters' phones, and the Help Scout side.

``GET /sandbox`` is one static page; it polls ``GET /sandbox/state`` (JSON)
and acts through ``POST /sandbox/actions/<name>`` (JSON in, JSON out). The
actions run in the request: a text reaches Bling before the answer
returns, and the page shows Help Scout filling in as the worker runs.
"""

from __future__ import annotations

import json
import logging

import falcon

from bling.ops.provision import SIDEBAR_APP_ROUTE, VOICE_ROUTE
from bling.routing.urls import find_route
from bling_fakes.sandbox import actions
from bling_fakes.sandbox.page_html import PAGE
from bling_fakes.sandbox.state import SandboxState

log = logging.getLogger("bling.sandbox")


class SandboxPage:
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Cache-Control", "no-store")
        resp.text = PAGE


class SandboxStateView:
    """Everything the page shows, in one JSON document."""

    def __init__(self, state: SandboxState, services):
        self.state, self.services = state, services

    def on_get(self, req, resp):
        state = self.state
        phones = []
        messages = state.list_messages(limit=2000)
        calls = state.list_calls()
        for phone in state.supporters():
            phones.append({
                "number": phone,
                "messages": [_message(m, phone) for m in reversed(messages) if phone in (m["from_"], m["to"])],
                "calls": [_call(c) for c in calls if phone in (c["from_"], c["to"])],
            })
        hotlines = state.hotlines()
        agent_phones = sorted({r for h in hotlines for r in h["ring"]})
        mailboxes = []
        for hotline in {h["mailbox_id"]: h for h in reversed(hotlines)}.values():  # one per mailbox (SMS + WhatsApp)
            conversations = []
            for conversation in state.conversations_of(mailbox_id=hotline["mailbox_id"]):
                customer = state.customer(customer_id=conversation["customer_id"]) or {}
                conversations.append({
                    "id": conversation["id"], "subject": conversation["subject"], "status": conversation["status"],
                    "tags": json.loads(conversation["tags"] or "[]"),
                    "customer": customer.get("phone") or customer.get("email"),
                    "threads": [{"id": t["id"], "type": t["type"], "body": t["body"], "by": t["by_type"],
                                 "at": t["created_at"], "attachments": [_attachment(a) for a in t["attachments"]]}
                                for t in reversed(state.threads_of(conversation["id"]))],
                })
            mailboxes.append({"id": hotline["mailbox_id"], "name": hotline["name"], "conversations": conversations})
        resp.media = {
            "sandbox": True,
            "hotlines": hotlines,
            "phones": phones,
            "agent_phones": [{"number": p, "calls": [_call(c) for c in calls if p in (c["from_"], c["to"])]}
                             for p in agent_phones],
            "mailboxes": mailboxes,
            "webhooks": [{k: v for k, v in h.items() if k != "secret"} for h in state.webhooks()],
            "features": {"voice": find_route(self.services, VOICE_ROUTE) is not None,
                         "callback": find_route(self.services, SIDEBAR_APP_ROUTE) is not None},
            "jobs": _jobs(self.services.store),
        }


class SandboxAction:
    """POST /sandbox/actions/{name}: text, call, reply, sidebar."""

    def __init__(self, state: SandboxState, services):
        self.state, self.services = state, services

    def on_post(self, req, resp, name: str):
        try:
            data = json.loads(req.bounded_stream.read() or b"{}")
        except ValueError:
            raise falcon.HTTPBadRequest(description="The body is not JSON.") from None
        settings = self.services.settings
        try:
            if name == "text":
                result = actions.text_hotline(self.state, settings, data.get("from", ""), data.get("to", ""), data.get("body", ""))
            elif name == "call":
                result = actions.call_hotline(self.state, settings, data.get("from", ""), data.get("to", ""),
                                              data.get("speech", ""), data.get("answer", "no-answer"))
            elif name == "reply":
                result = actions.agent_reply(self.state, settings, int(data.get("conversation", 0)), data.get("body", ""))
            elif name == "sidebar":
                result = {"html": actions.sidebar_html(self.state, settings, int(data.get("conversation", 0)))}
            else:
                raise falcon.HTTPNotFound(description=f"no sandbox action {name!r}")
        except actions.Problem as ex:
            resp.status = falcon.HTTP_422
            resp.media = {"error": str(ex)}
            return
        log.info("sandbox action %s: %s", name, {k: v for k, v in result.items() if k != "html"})
        resp.media = result


def _jobs(store) -> dict:
    """Bling's own queue as the page shows it: counts, dead letters, and events waiting for a retry."""
    def brief(row: dict) -> dict:
        return {"id": row["id"], "key": row["key"], "route": row["route"], "attempts": row["attempts"],
                "error": (row["last_error"] or "")[:300], "next": row["next_attempt_at"]}

    return {"counts": store.counts(), "dead": [brief(r) for r in store.rows("dead", 20)],
            "waiting": [brief(r) for r in store.rows("pending", 20)]}


def _attachment(found: dict) -> dict:
    """An attachment's name, type and size (the page never shows its data)."""
    data = found.get("data") or ""
    return {"name": found.get("fileName") or "attachment", "type": found.get("mimeType") or "",
            "bytes": len(data) * 3 // 4}


def _message(row: dict, phone: str) -> dict:
    return {"sid": row["sid"], "mine": row["from_"] == phone, "other": row["to"] if row["from_"] == phone else row["from_"],
            "body": row["body"], "status": row["status"], "note": row["note"], "at": row["created_at"]}


def _call(row: dict) -> dict:
    return {"sid": row["sid"], "from": row["from_"], "to": row["to"], "status": row["status"],
            "direction": row["direction"], "log": row["log"].splitlines(), "at": row["created_at"]}


def add_page_routes(app, state: SandboxState, services) -> None:
    app.add_route("/sandbox", SandboxPage())
    app.add_route("/sandbox/state", SandboxStateView(state, services))
    app.add_route("/sandbox/actions/{name}", SandboxAction(state, services))
