"""What happens when someone acts on the sandbox page: the fake Twilio and Help Scout at work.

- A supporter texts: the fake Twilio records the text and posts it, signed,
  to the number's SmsUrl (as set by ``bling provision``), falling back to
  its SmsFallbackUrl on failure; ``<Message>`` TwiML in the answer is texted
  back, as Twilio does.
- A supporter writes on WhatsApp (a ``whatsapp:+…`` phone): the same, to the
  WhatsApp sender's callback URL (its webhook, as ``bling provision`` set
  it), with WhatsApp's fields (``ProfileName``, ``WaId``).
- A supporter calls: the fake Twilio walks the number's VoiceUrl TwiML
  (nobody answers, the caller leaves a voicemail).
- An agent replies: the fake Help Scout adds the reply thread and fires
  every enabled webhook subscribed to the event and the mailbox, signed
  with that webhook's secret.
- An agent opens a conversation: the sidebar app's callback URL is asked
  for its HTML, signed with HELPSCOUT_APP_SECRET, as Help Scout does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET

import requests

from bling.phones import to_e164
from bling.routing.urls import find_route
from bling_fakes.simulate import CallOptions, Target, sms_form, simulate_call, whatsapp_form
from bling_fakes.sandbox.state import SandboxState

AGENT_REPLY_EVENT = "convo.agent.reply.created"
WHATSAPP = "whatsapp:"
#: The name a sandbox WhatsApp phone's owner shows (WhatsApp's ProfileName).
PROFILE_NAME = "Sandbox supporter"


class Problem(Exception):
    """Something the page should show the person (bad input, nothing configured)."""


def _target(settings) -> Target:
    return Target.from_settings(settings, settings.public_base())


def _phone(value: str, what: str) -> str:
    number = to_e164(value or "")
    if number is None:
        raise Problem(f"{what}: {value!r} is not a phone number")
    return number


def text_hotline(state: SandboxState, settings, from_: str, to: str, body: str) -> dict:
    """A supporter texts the hotline; return the message as recorded (with what happened)."""
    if from_.startswith(WHATSAPP) or to.startswith(WHATSAPP):
        return whatsapp_hotline(state, settings, from_, to, body)
    from_, to = _phone(from_, "from"), _phone(to, "to")
    if not body.strip():
        raise Problem("the text is empty")
    number = state.number(phone_number=to)
    if number is None:
        raise Problem(f"{to} is not a sandbox hotline")
    form = sms_form(settings.twilio_account_sid, from_, to, body)
    state.add_message("inbound", from_, to, body, "received", sid=dict(form)["MessageSid"])
    config = number["config"]
    return _post(state, settings, form, config.get("sms_url"), config.get("sms_fallback_url"), "SmsUrl")


def whatsapp_hotline(state: SandboxState, settings, from_: str, to: str, body: str) -> dict:
    """A supporter writes to the hotline on WhatsApp: posted, signed, to the sender's callback URL."""
    from_ = WHATSAPP + _phone(from_.removeprefix(WHATSAPP), "from")
    to = WHATSAPP + _phone(to.removeprefix(WHATSAPP), "to")
    if not body.strip():
        raise Problem("the message is empty")
    sender = state.sender(sender_id=to)
    if sender is None:
        raise Problem(f"{to} is not a sandbox WhatsApp hotline")
    form = whatsapp_form(settings.twilio_account_sid, from_, to, body, PROFILE_NAME)
    state.add_message("inbound", from_, to, body, "received", sid=dict(form)["MessageSid"])
    webhook = sender["webhook"]
    return _post(state, settings, form, webhook.get("callback_url"), webhook.get("fallback_url"),
                 "WhatsApp callback URL")


def _post(state: SandboxState, settings, form, url: str | None, fallback_url: str | None, what: str) -> dict:
    """Post the recorded message to ``url`` (``fallback_url`` when that fails); text back its ``<Message>`` TwiML."""
    fields, target = dict(form), _target(settings)
    note, twiml = _deliver(target, url, form, what)
    if twiml is None and fallback_url:
        fallback_form = form + [("ErrorCode", "11200"), ("ErrorUrl", url or "")]
        fallback_note, twiml = _deliver(target, fallback_url, fallback_form, what)
        note += f"; fallback: {fallback_note}"
    for reply in _messages(twiml):
        state.add_message("outbound-reply", fields["To"], fields["From"], reply, "delivered", note="TwiML <Message>")
    state.set_message(fields["MessageSid"], "received", note)
    return {"sid": fields["MessageSid"], "note": note}


def _deliver(target: Target, url: str | None, form, what: str = "SmsUrl") -> tuple[str, ET.Element | None]:
    if not url:
        return f"the hotline has no {what}: run `bling provision --apply` (the sandbox does at start)", None
    if not target.is_ours(url.split("#", 1)[0]):
        return f"{what} {url} is not this Bling; not delivered", None
    try:
        response = target.post_twilio(url, form)
    except requests.RequestException as ex:
        return f"could not reach {url}: {type(ex).__name__}", None
    if response.status_code >= 400:
        return f"{url.split('#')[0]} answered {response.status_code}", None
    try:
        return f"delivered to {url.split('#')[0]} ({response.status_code})", ET.fromstring(response.content)
    except ET.ParseError:
        return f"{url} answered {response.status_code} without TwiML", None


def _messages(twiml: ET.Element | None) -> list[str]:
    if twiml is None:
        return []
    found = []
    for message in twiml.iter("Message"):
        body = message.find("Body")
        found.append(((body.text if body is not None else message.text) or "").strip())
    return [m for m in found if m]


def call_hotline(state: SandboxState, settings, from_: str, to: str, speech: str, answer: str = "no-answer") -> dict:
    """A supporter calls; by default nobody answers and they leave ``speech`` as a voicemail."""
    if answer not in ("no-answer", "answered", "busy", "failed"):
        raise Problem(f"answer: {answer!r} is not one of no-answer, answered, busy, failed")
    from_, to = _phone(from_, "from"), _phone(to, "to")
    number = state.number(phone_number=to)
    if number is None:
        raise Problem(f"{to} is not a sandbox hotline")
    voice_url = number["config"].get("voice_url")
    if not voice_url:
        raise Problem("the hotline has no VoiceUrl (Bling's voice routes are not in routes.toml, or not provisioned)")
    call = state.add_call("inbound", from_, to, "in-progress")
    lines: list[str] = []
    options = CallOptions(answer=answer, speech=speech or "Hello, please call me back.",
                          status_callback=number["config"].get("status_callback") or None)
    log = simulate_call(_target(settings), from_, to, options, on_line=lines.append, start_url=voice_url.split("#")[0],
                        direction="inbound", call_sid=call["sid"],
                        on_recording=lambda sid, call_sid, seconds: state.add_recording(sid, call_sid, seconds),
                        on_leg=state.note_leg)
    failed = any(code >= 400 for _url, code in log.requests)
    state.set_call(call["sid"], "failed" if failed else "completed", lines)
    return {"sid": call["sid"], "lines": lines}


def agent_reply(state: SandboxState, settings, conversation_id: int, text: str) -> dict:
    """An agent replies in Help Scout: add the thread, fire the subscribed webhooks."""
    from bling_fakes.sandbox.helpscout_api import sandbox_helpscout

    conversation = state.conversation(int(conversation_id))
    if conversation is None:
        raise Problem(f"no conversation {conversation_id}")
    if not text.strip():
        raise Problem("the reply is empty")
    html = "".join(f"<div>{_escape(line)}</div>" if line else "<div><br></div>" for line in text.split("\n"))
    thread_id = state.add_thread(conversation["id"], "message", html, "user", "web")
    api = sandbox_helpscout(state, settings)
    payload = api.conversation_json(state.conversation(conversation["id"]), embed_threads=True)
    deliveries = []
    for hook in state.webhooks():
        mailboxes = hook.get("mailboxIds") or []
        if hook["state"] != "enabled" or AGENT_REPLY_EVENT not in hook.get("events", []):
            continue
        if mailboxes and conversation["mailbox_id"] not in mailboxes:
            deliveries.append(f"webhook {hook['id']}: not for mailbox {conversation['mailbox_id']}")
            continue
        deliveries.append(_fire(hook, payload))
    if not deliveries:
        deliveries.append("no webhook subscribed: run `bling provision --apply` (the sandbox does at start)")
    return {"thread_id": thread_id, "deliveries": deliveries}


def _fire(hook: dict, payload: dict) -> str:
    body = json.dumps(payload).encode("utf-8")
    signature = base64.b64encode(hmac.new(hook["secret"].encode("utf-8"), body, hashlib.sha1).digest()).decode()
    try:
        response = requests.post(hook["url"], data=body, timeout=15, headers={
            "Content-Type": "application/json", "X-HelpScout-Event": AGENT_REPLY_EVENT, "X-HelpScout-Signature": signature})
    except requests.RequestException as ex:
        return f"webhook {hook['id']} → {hook['url']}: {type(ex).__name__}"
    return f"webhook {hook['id']} → {hook['url']}: {response.status_code}"


def sidebar_html(state: SandboxState, settings, conversation_id: int) -> str | None:
    """The sidebar app's HTML for a conversation (None when Bling has no sidebar route)."""
    from bling.ops.provision import SIDEBAR_APP_ROUTE, route_table

    app = find_route(route_table(settings), SIDEBAR_APP_ROUTE)
    if app is None:
        return None
    conversation = state.conversation(int(conversation_id))
    if conversation is None:
        raise Problem(f"no conversation {conversation_id}")
    customer = state.customer(customer_id=conversation["customer_id"]) or {}
    mailbox_email = f"hotline-{conversation['mailbox_id']}@sandbox.invalid"
    payload = {"ticket": {"id": conversation["id"], "number": conversation["id"], "subject": conversation["subject"]},
               "customer": {"id": customer.get("id"), "fname": "", "lname": "", "email": customer.get("email"),
                            "emails": [customer.get("email")] if customer.get("email") else []},
               "user": {"fname": "Sandbox", "lname": "Agent", "id": 1, "role": "owner", "convRedirect": 0},
               "mailbox": {"id": conversation["mailbox_id"], "email": mailbox_email}}
    body = json.dumps(payload).encode("utf-8")
    signature = base64.b64encode(hmac.new(settings.helpscout_app_secret.encode("utf-8"), body, hashlib.sha1).digest()).decode()
    response = requests.post(settings.public_base() + app.path, data=body, timeout=15,
                             headers={"Content-Type": "application/json", "X-HelpScout-Signature": signature})
    if response.status_code != 200:
        return f"<p>The sidebar app answered {response.status_code}.</p>"
    try:
        return response.json().get("html", "")
    except ValueError:
        return response.text


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
