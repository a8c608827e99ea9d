"""Point Twilio and Help Scout at Bling through their APIs instead of their consoles.

For each hotline the *desired* state is computed from the settings and the
routes that exist in routes.toml, compared with what the APIs report, and
(with ``apply``) set:

- the Twilio number's messaging URL (with a connection-override fragment so
  Twilio retries connection failures, timeouts and 5xx — safe, Bling
  deduplicates by MessageSid), its fallback, voice URL, voice fallback and
  call status callback. An SMS/voice *application* on the number would make
  Twilio ignore those URLs, so it is cleared;
- one Help Scout webhook per Bling URL (matched by URL, so never duplicated)
  for the agent-reply event, signed with HELPSCOUT_WEBHOOK_SECRET and
  limited to Bling's mailboxes with ``mailboxIds``. A disabled webhook is
  deleted and created again: the API documents no way to re-enable one.

A field whose route is not in routes.toml is left alone (e.g. a Studio flow
on the voice URL while the voice routes are off). The sidebar app cannot be
created through any API; ``manual_steps`` says what the admin enters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from bling.errors import ConfigError
from bling.config.mailboxes import Mailbox
from bling.routing.routes import load_routes

#: Twilio connection overrides on the messaging URL: 3 retries on connect
#: failure, read timeout or 5xx (Bling deduplicates by MessageSid).
SMS_URL_OVERRIDES = "#rc=3&rp=ct,rt,5xx"
SMS_PATH = "/bling/twilio_sms"
SMS_FALLBACK_PATH = "/bling/twilio_sms_fallback"
VOICE_PATH = "/bling/twilio_voice"
VOICE_FALLBACK_PATHS = ("/bling/twilio_voice_fallback",)
CALL_STATUS_PATHS = ("/bling/twilio_call_status", "/bling/twilio_voice_status")
WEBHOOK_PATH = "/bling/helpscout_webhook"
SIDEBAR_APP_PATH = "/bling/helpscout_app"
#: Help Scout events each plugin of the webhook route's chain needs.
PLUGIN_EVENTS = {"agent_reply": ("convo.agent.reply.created",), "agent_started": ("convo.created",)}
WEBHOOK_EVENTS = ("convo.agent.reply.created",)  # when the chain names none of the above
WEBHOOK_LABEL = "Bling"


@dataclass
class Change:
    """One setting: what is there, what Bling wants."""

    name: str
    current: Any
    desired: Any
    shown: str | None = None  # how to print the desired value when it is a secret

    @property
    def differs(self) -> bool:
        return _normal(self.current) != _normal(self.desired)


@dataclass
class Item:
    """One thing to provision: a Twilio number or the Help Scout webhook."""

    kind: str  # "twilio-number" | "helpscout-webhook"
    label: str
    action: str = "none"  # none | create | update | recreate | error | skip
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    ref: Any = None  # number SID or webhook id
    applied: bool = False

    @property
    def pending(self) -> bool:
        return self.action in ("create", "update", "recreate")


@dataclass
class Plan:
    items: list[Item]

    @property
    def failed(self) -> bool:
        return any(item.action == "error" for item in self.items)


def _normal(value: Any) -> Any:
    """Compare like Twilio and Help Scout report: None and '' alike, lists as sets."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return tuple(sorted(str(v) for v in value))
    return value


def route_paths(settings) -> set[str]:
    """The paths routes.toml serves (desired URLs exist only for these)."""
    return {route.path for route in load_routes(settings.routes_path)}


def require_public_url(settings) -> str:
    base = settings.public_base()
    if not base:
        raise ConfigError("BLING_PUBLIC_URL is not set: Twilio and Help Scout need Bling's external "
                          "https URL to call, e.g. BLING_PUBLIC_URL=https://bling.example.org")
    return base


def desired_number(settings, paths: set[str]) -> dict[str, str]:
    """The Twilio IncomingPhoneNumber settings Bling wants for every hotline number."""
    base = require_public_url(settings)
    wanted: dict[str, str] = {}
    if SMS_PATH in paths:
        wanted.update(sms_url=base + SMS_PATH + SMS_URL_OVERRIDES, sms_method="POST", sms_application_sid="")
    sms_fallback = os.environ.get("BLING_SMS_FALLBACK_URL", "").strip() or (
        base + SMS_FALLBACK_PATH if SMS_FALLBACK_PATH in paths else "")
    if sms_fallback:
        wanted.update(sms_fallback_url=sms_fallback, sms_fallback_method="POST")
    if VOICE_PATH in paths:
        wanted.update(voice_url=base + VOICE_PATH, voice_method="POST", voice_application_sid="")
    voice_fallback = os.environ.get("BLING_VOICE_FALLBACK_URL", "").strip() or next(
        (base + p for p in VOICE_FALLBACK_PATHS if p in paths), "")
    if voice_fallback:
        wanted.update(voice_fallback_url=voice_fallback, voice_fallback_method="POST")
    status = next((base + p for p in CALL_STATUS_PATHS if p in paths), "")
    if status:
        wanted.update(status_callback=status, status_callback_method="POST")
    return wanted


def webhook_events(settings) -> list[str]:
    """The events the webhook route's plugins need, from its chain in routes.toml."""
    chain = next((r.chain for r in load_routes(settings.routes_path) if r.path == WEBHOOK_PATH), ())
    events = [e for plugin in chain for e in PLUGIN_EVENTS.get(plugin, ())]
    return list(dict.fromkeys(events)) or list(WEBHOOK_EVENTS)


def desired_webhook(settings) -> dict[str, Any]:
    """The Help Scout webhook body Bling wants (POST and PUT take the same body)."""
    base = require_public_url(settings)
    return {"url": base + WEBHOOK_PATH, "events": webhook_events(settings),
            "secret": settings.helpscout_webhook_secret, "payloadVersion": "V2", "label": WEBHOOK_LABEL,
            "mailboxIds": sorted({m.mailbox_id for m in settings.mailboxes}), "notification": False}


def plan_number(twilio, mailbox: Mailbox, wanted: dict[str, str]) -> Item:
    """Compare one hotline number with ``wanted``."""
    item = Item("twilio-number", f"Twilio number {mailbox.address} (mailbox {mailbox.mailbox_id})")
    if mailbox.transport != "twilio":
        item.action = "skip"
        item.notes.append(f"a {mailbox.transport} hotline: set it up in that provider's console")
        return item
    try:
        number = twilio.find_number(mailbox.address)
    except Exception as ex:
        item.action, item.error = "error", _reason(ex)
        return item
    if number is None:
        item.action = "error"
        item.error = (f"{mailbox.address} is not a number of Twilio account {twilio.account_sid}: "
                      "buy or port it there, or fix BLING_MAILBOXES")
        return item
    item.ref = number["sid"]
    caps = number.get("capabilities") or {}
    if "sms_url" in wanted and caps.get("sms") is False:
        item.notes.append("this number cannot receive SMS (capabilities.sms is false)")
    for name, value in wanted.items():
        if name.endswith("application_sid") and not number.get(name):
            continue  # clear an application only when one is set
        item.changes.append(Change(name, number.get(name), value))
    if any(c.differs for c in item.changes):
        item.action = "update"
    return item


def plan_webhook(helpscout, wanted: dict[str, Any]) -> Item:
    """Compare the account's webhooks with ``wanted`` (matched by URL)."""
    item = Item("helpscout-webhook", f"Help Scout webhook {wanted['url']}")
    try:
        hooks = helpscout.list_webhooks()
    except Exception as ex:
        item.action, item.error = "error", _reason(ex)
        return item
    ours = [h for h in hooks if str(h.get("url", "")).rstrip("/") == wanted["url"].rstrip("/")]
    secret_shown = "(HELPSCOUT_WEBHOOK_SECRET)"
    if not ours:
        item.action = "create"
        item.changes = [Change(k, None, v, secret_shown if k == "secret" else None)
                        for k, v in wanted.items() if k != "url"]
        return item
    current = ours[0]
    item.ref = current.get("id")
    if len(ours) > 1:
        item.notes.append(f"{len(ours) - 1} more webhook(s) point at this URL "
                          f"(ids {', '.join(str(h.get('id')) for h in ours[1:])}); delete them in Help Scout")
    item.changes = [Change("events", current.get("events"), wanted["events"]),
                    Change("mailboxIds", current.get("mailboxIds", "(not reported)"), wanted["mailboxIds"]),
                    Change("notification", current.get("notification", False), False),
                    Change("state", current.get("state", "enabled"), "enabled")]
    if "secret" in current:
        item.changes.append(Change("secret", "(differs)" if current["secret"] != wanted["secret"] else secret_shown,
                                   secret_shown))
    else:
        item.notes.append("Help Scout does not report the secret; it is sent again with every update")
    if current.get("state", "enabled") != "enabled":
        item.action = "recreate"
        item.notes.append("a disabled webhook is deleted and created again (the API cannot re-enable one)")
    elif any(c.differs for c in item.changes):
        item.action = "update"
    return item


def make_plan(services, mailbox_id: int | None = None) -> Plan:
    """Compare what is set with what Bling wants, for every (or one) hotline."""
    settings = services.settings
    mailboxes = settings.mailboxes
    if mailbox_id is not None:
        mailboxes = [m for m in mailboxes if m.mailbox_id == mailbox_id]
        if not mailboxes:
            known = ", ".join(str(m.mailbox_id) for m in settings.mailboxes)
            raise ConfigError(f"--mailbox {mailbox_id}: not in BLING_MAILBOXES (configured: {known})")
    paths = route_paths(settings)
    wanted_number = desired_number(settings, paths)
    items = [plan_number(services.twilio, m, wanted_number) for m in mailboxes]
    if WEBHOOK_PATH in paths:
        items.append(plan_webhook(services.helpscout, desired_webhook(settings)))
    return Plan(items)


def apply_plan(services, plan: Plan, progress: Callable[[Item], None] = lambda item: None) -> Plan:
    """Make every pending change; one failing item does not stop the others."""
    wanted_hook = desired_webhook(services.settings) if any(i.kind == "helpscout-webhook" for i in plan.items) else None
    for item in plan.items:
        if not item.pending:
            continue
        try:
            if item.kind == "twilio-number":
                services.twilio.update_number(item.ref, {c.name: c.desired for c in item.changes if c.differs})
            elif item.action == "create":
                item.ref = services.helpscout.create_webhook(wanted_hook)
            elif item.action == "recreate":
                services.helpscout.delete_webhook(item.ref)
                item.ref = services.helpscout.create_webhook(wanted_hook)
            else:
                services.helpscout.update_webhook(item.ref, wanted_hook)
            item.applied = True
        except Exception as ex:
            item.action, item.error = "error", _reason(ex)
        progress(item)
    return plan


def manual_steps(settings, paths: set[str]) -> list[str]:
    """What the Help Scout admin must set by hand: the sidebar app (no API creates it)."""
    if SIDEBAR_APP_PATH not in paths:
        return []
    base = settings.public_base() or "<BLING_PUBLIC_URL>"
    secret_set = bool(getattr(settings, "helpscout_app_secret", None) or os.environ.get("HELPSCOUT_APP_SECRET", "").strip())
    ids = ", ".join(str(m.mailbox_id) for m in settings.mailboxes)
    return [
        "Help Scout sidebar app (Manage › Apps › Create App; the API cannot create it):",
        f"  Callback URL:  {base}{SIDEBAR_APP_PATH}",
        "  Secret key:    the value of HELPSCOUT_APP_SECRET" + ("" if secret_set else "  (NOT SET: choose one of 40 characters or fewer and set it first)"),
        f"  Mailboxes:     {ids}",
    ]


def describe(plan: Plan) -> list[str]:
    """The plan as diff lines: '~' changes, '=' already right, '+' new."""
    lines: list[str] = []
    for item in plan.items:
        status = {"none": "already right", "skip": "skipped"}.get(item.action, item.action)
        if item.applied:
            status += " (done)"
        lines.append(f"{item.label}: {status}")
        if item.error:
            lines.append(f"  ! {item.error}")
        for change in item.changes:
            desired = change.shown or repr(change.desired)
            if item.action == "create":
                lines.append(f"  + {change.name}: {desired}")
            elif change.differs:
                current = change.current if isinstance(change.current, str) and change.current.startswith("(") else repr(change.current)
                lines.append(f"  ~ {change.name}: {current} → {desired}")
            else:
                lines.append(f"  = {change.name}: {desired}")
        lines.extend(f"  note: {note}" for note in item.notes)
    return lines


def _reason(ex: Exception) -> str:
    """A one-line reason naming what failed (explanations never hold secrets)."""
    explanation = getattr(ex, "explanation", None)
    text = str(ex)
    return f"{text} ({explanation})" if explanation and explanation not in text else text
