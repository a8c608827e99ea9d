"""Agents' replies during the burst: signed Help Scout webhooks to conversations in the fake.

Issue 11: an agent's reply reaches the supporter's phone within seconds
even while the inbound backlog drains (the SMS needs no Help Scout budget;
its note may wait its turn). Each reply goes to its own supporter, who has
a phone conversation in the fake and in Bling's map (so Bling knows the
number without a Help Scout call), and whose newest thread is the agent's
published reply written in the web UI — what ``plugins/sms/agent_reply.py``
accepts. The payload is the v2 webhook (``convo.agent.reply.created``, the
conversation with its threads embedded, as tests/fixtures/helpscout/
agent_reply_v2.json), signed with ``X-HelpScout-Signature``.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

from fifo import percentile
from bling_fakes.helpscout import HelpScoutFake, iso
from loadgen import signed_helpscout

from bling.phones import blackhole_email
from bling.store.core import Store

EVENT = "convo.agent.reply.created"
SENT_NOTE = "Bling sent this reply as an SMS"


@dataclass
class Reply:
    tag: str  # in the reply's text, so its SMS can be found in the Twilio fake
    phone: str
    email: str
    conversation_id: int
    customer_id: int
    thread_id: int | None = None  # the agent's reply thread: Bling's job key is helpscout:thread:<id>
    webhook_at: float | None = None  # when the webhook was sent
    status: int | None = None


@dataclass
class AgentReplies:
    """Seeds the supporters, sends the webhooks spread over ``spread`` seconds, then measures."""

    double: HelpScoutFake
    path: str
    secret: str
    mailbox_id: int
    replies: list[Reply] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def seed(self, store_url: str, count: int, blackhole: str) -> None:
        """``count`` supporters with a day-old phone conversation, known to Bling's map."""
        store = Store(store_url)
        yesterday = time.time() - 86400
        for i in range(count):
            phone = f"+1617{5000000 + i:07d}"
            email = blackhole_email(phone, blackhole)
            conversation = self.double.seed_conversation(self.mailbox_id, email, phone, "Can someone call me?", yesterday)
            store.remember_conversation(self.mailbox_id, phone, conversation, 1)
            customer = self.double.conversations[conversation].customer_id
            self.replies.append(Reply(f"[R{i:03d}]", phone, email, conversation, customer))
        store.close()

    def start(self, port: int, spread: float) -> threading.Thread:
        """Send one reply every ``spread / count`` seconds from a thread; return it."""
        thread = threading.Thread(target=self._send_all, args=(port, spread), name="agent-replies", daemon=True)
        thread.start()
        return thread

    def _send_all(self, port: int, spread: float) -> None:
        began = time.time()
        step = spread / max(1, len(self.replies))
        for index, reply in enumerate(self.replies):
            time.sleep(max(0.0, began + (index + 0.5) * step - time.time()))
            request = signed_helpscout(self.path, self.secret, self._payload(reply), EVENT, reply.tag)
            reply.webhook_at = time.time()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", request.path, body=request.body, headers=request.headers)
                reply.status = conn.getresponse().status
                conn.close()
            except (OSError, http.client.HTTPException) as ex:
                self.errors.append(f"{reply.tag}: {type(ex).__name__}: {ex}")

    def _payload(self, reply: Reply) -> dict:
        """The v2 webhook body: the conversation with the agent's new reply as its newest thread."""
        thread = self.double.agent_reply(reply.conversation_id, f"We will call you back today {reply.tag}")
        reply.thread_id = thread.id
        customer = {"id": reply.customer_id, "email": reply.email}
        agent = {"id": 77, "type": "user", "first": "Jane", "last": "Agent", "email": "jane@hotline.example.org"}
        return {
            "id": reply.conversation_id, "number": reply.conversation_id, "threads": 2, "type": "phone",
            "status": "active", "state": "published", "subject": f"SMS from {reply.phone}",
            "mailboxId": self.mailbox_id, "createdBy": {**customer, "type": "customer"},
            "primaryCustomer": {**customer, "type": "customer", "first": "", "last": ""},
            "source": {"type": "api", "via": "customer"}, "tags": [], "cc": [], "bcc": [], "customFields": [],
            "_embedded": {"threads": [{
                "id": thread.id, "type": "message", "status": "active", "state": "published",
                "action": {"type": "default", "text": ""},
                "body": f"<div>We will call you back today {reply.tag}</div><div>--</div><div>Jane<br>Hotline team</div>",
                "source": {"type": "web", "via": "user"}, "customer": customer, "createdBy": agent,
                "to": [reply.email], "cc": [], "bcc": [], "createdAt": iso(thread.created_at),
                "_embedded": {"attachments": []}}]},
            "_links": {"self": {"href": f"https://api.helpscout.net/v2/conversations/{reply.conversation_id}"}},
        }

    def supporters(self) -> dict[str, str]:
        """Phone and blackhole e-mail of every reply's supporter (for the unit accounting)."""
        return {key: "reply" for r in self.replies for key in (r.phone, r.email)}

    def measure(self, sms: list, held_keys: set[str] = frozenset()) -> dict:
        """SMS latency after the webhook, and the notes Bling posted in the fake.

        ``held_keys``: job keys the SIGKILLed worker held; those replies wait
        out its lease, so the p95 is also given without them.
        """
        first_sms = {}
        for message in sms:
            for reply in self.replies:
                if reply.tag in message.body and reply.tag not in first_sms:
                    first_sms[reply.tag] = message.created_at
        latency = {r.tag: first_sms[r.tag] - r.webhook_at for r in self.replies if r.tag in first_sms and r.webhook_at}
        latencies = list(latency.values())
        held = {r.tag for r in self.replies if f"helpscout:thread:{r.thread_id}" in held_keys}
        notes = 0
        for reply in self.replies:
            conversation = self.double.conversations[reply.conversation_id]
            notes += any(t.type == "note" and t.text.startswith(SENT_NOTE) for t in conversation.threads)
        return {"replies": len(self.replies), "accepted": sum(1 for r in self.replies if r.status and r.status < 300),
                "sms_sent": len(first_sms), "sms_total": sum(1 for m in sms if any(r.tag in m.body for r in self.replies)),
                "sms_p50_s": percentile(latencies, 50), "sms_p95_s": percentile(latencies, 95),
                "sms_max_s": max(latencies, default=None), "held_by_killed_worker": len(held),
                "sms_p95_s_but_killed_jobs": percentile([v for t, v in latency.items() if t not in held], 95),
                "notes_posted": notes, "errors": self.errors[:5]}
