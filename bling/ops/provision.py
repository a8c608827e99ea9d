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

Features add their own items through ``bling_provision`` (e.g. WhatsApp's
senders): the host shows them in the same plan, makes their changes with
``--apply`` (the item's ``apply``), prints what only a console can do
(``console``) and leaves the hotlines they cover alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from bling.declarations import Change, Item  # noqa: F401  (what features hand bling_provision; kept importable here)
from bling.errors import ConfigError
from bling.config.mailboxes import Mailbox
from bling.routing.routes import Route, load_routes
from bling.routing.urls import find_route

#: Twilio connection overrides on the messaging URL: 3 retries on connect
#: failure, read timeout or 5xx (Bling deduplicates by MessageSid).
SMS_URL_OVERRIDES = "#rc=3&rp=ct,rt,5xx"
#: Names (in routes.toml) of the routes whose URLs Twilio and Help Scout are given; the paths
#: are written only there. Of several names, the first route routes.toml has is used.
SMS_ROUTE = "twilio-sms"
SMS_FALLBACK_ROUTE = "twilio-sms-fallback"
VOICE_ROUTE = "twilio-voice"
VOICE_FALLBACK_ROUTES = ("twilio-voice-fallback",)
CALL_STATUS_ROUTES = ("twilio-call-status", "twilio-voice-status")
WEBHOOK_ROUTE = "helpscout-webhook"
SIDEBAR_APP_ROUTE = "helpscout-app"
#: Help Scout events each plugin of the webhook route's chain needs.
PLUGIN_EVENTS = {"agent_reply": ("convo.agent.reply.created",), "agent_started": ("convo.created",)}
WEBHOOK_EVENTS = ("convo.agent.reply.created",)  # when the chain names none of the above
WEBHOOK_LABEL = "Bling"


@dataclass
class Plan:
    items: list[Item]

    @property
    def failed(self) -> bool:
        return any(item.action == "error" for item in self.items)

    @property
    def console(self) -> list[str]:
        """What is left to do by hand in a provider's console, over every item."""
        return [step for item in self.items for step in item.console]


def route_table(settings) -> list[Route]:
    """The routes routes.toml serves (desired URLs exist only for these)."""
    return load_routes(settings.routes_path)


def _url(base: str, routes: list[Route], *names: str) -> str:
    """``base`` + the path of the first route named in ``names`` that routes.toml has, else ""."""
    for name in names:
        route = find_route(routes, name)
        if route is not None:
            return base + route.path
    return ""


def require_public_url(settings) -> str:
    base = settings.public_base()
    if not base:
        raise ConfigError("BLING_PUBLIC_URL is not set: Twilio and Help Scout need Bling's external "
                          "https URL to call, e.g. BLING_PUBLIC_URL=https://bling.example.org")
    return base


def desired_number(settings, routes: list[Route]) -> dict[str, str]:
    """The Twilio IncomingPhoneNumber settings Bling wants for every hotline number."""
    base = require_public_url(settings)
    wanted: dict[str, str] = {}
    sms = _url(base, routes, SMS_ROUTE)
    if sms:
        wanted.update(sms_url=sms + SMS_URL_OVERRIDES, sms_method="POST", sms_application_sid="")
    sms_fallback = os.environ.get("BLING_SMS_FALLBACK_URL", "").strip() or _url(base, routes, SMS_FALLBACK_ROUTE)
    if sms_fallback:
        wanted.update(sms_fallback_url=sms_fallback, sms_fallback_method="POST")
    voice = _url(base, routes, VOICE_ROUTE)
    if voice:
        wanted.update(voice_url=voice, voice_method="POST", voice_application_sid="")
    voice_fallback = os.environ.get("BLING_VOICE_FALLBACK_URL", "").strip() or _url(base, routes, *VOICE_FALLBACK_ROUTES)
    if voice_fallback:
        wanted.update(voice_fallback_url=voice_fallback, voice_fallback_method="POST")
    status = _url(base, routes, *CALL_STATUS_ROUTES)
    if status:
        wanted.update(status_callback=status, status_callback_method="POST")
    return wanted


def webhook_events(settings) -> list[str]:
    """The events the webhook route's plugins need, from its chain in routes.toml."""
    route = find_route(route_table(settings), WEBHOOK_ROUTE)
    events = [e for plugin in (route.chain if route else ()) for e in PLUGIN_EVENTS.get(plugin, ())]
    return list(dict.fromkeys(events)) or list(WEBHOOK_EVENTS)


def desired_webhook(settings) -> dict[str, Any]:
    """The Help Scout webhook body Bling wants (POST and PUT take the same body)."""
    base = require_public_url(settings)
    return {"url": _url(base, route_table(settings), WEBHOOK_ROUTE), "events": webhook_events(settings),
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
    routes = route_table(settings)
    wanted_number = desired_number(settings, routes)
    features = feature_items(services, mailboxes)
    covered = {item.mailbox for item in features if item.mailbox is not None}
    items = [plan_number(services.twilio, m, wanted_number) for m in mailboxes if m not in covered]
    items += features
    if find_route(routes, WEBHOOK_ROUTE):
        items.append(plan_webhook(services.helpscout, desired_webhook(settings)))
    return Plan(items)


def feature_items(services, mailboxes: list[Mailbox]) -> list[Item]:
    """The items features hand in (``bling_provision``); a feature that raises becomes an error item.

    Each implementation is called on its own, so one broken feature does
    not hide the others' items.
    """
    found: list[Item] = []
    arguments = {"services": services, "mailboxes": list(mailboxes)}
    for impl in services.plugin_manager.hook.bling_provision.get_hookimpls():  # in registration order
        try:
            items = impl.function(*(arguments[name] for name in impl.argnames)) or []
        except ConfigError as ex:
            items = [Item("feature", f"plugin {impl.plugin_name}", action="error", error=str(ex))]
        except Exception as ex:
            items = [Item("feature", f"plugin {impl.plugin_name}", action="error",
                          error=f"bling_provision failed: {type(ex).__name__}: {_reason(ex)}")]
        for item in items:
            if not isinstance(item, Item):
                raise ConfigError(f"plugin {impl.plugin_name!r}: bling_provision returned {item!r}, "
                                  "not a bling.declarations.Item")
            found.append(item)
    return found


def apply_plan(services, plan: Plan, progress: Callable[[Item], None] = lambda item: None) -> Plan:
    """Make every pending change; one failing item does not stop the others."""
    wanted_hook = desired_webhook(services.settings) if any(i.kind == "helpscout-webhook" for i in plan.items) else None
    for item in plan.items:
        if not item.pending:
            continue
        try:
            if item.apply is not None:  # a feature's item makes its own changes
                item.apply()
            elif item.kind == "twilio-number":
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


def manual_steps(settings, routes: list[Route]) -> list[str]:
    """What the Help Scout admin must set by hand: the sidebar app (no API creates it)."""
    app_url = _url(settings.public_base() or "<BLING_PUBLIC_URL>", routes, SIDEBAR_APP_ROUTE)
    if not app_url:
        return []
    secret_set = bool(getattr(settings, "helpscout_app_secret", None) or os.environ.get("HELPSCOUT_APP_SECRET", "").strip())
    ids = ", ".join(str(m.mailbox_id) for m in settings.mailboxes)
    return [
        "Help Scout sidebar app (Manage › Apps › Create App; the API cannot create it):",
        f"  Callback URL:  {app_url}",
        "  Secret key:    the value of HELPSCOUT_APP_SECRET" + ("" if secret_set else "  (NOT SET: choose one of 40 characters or fewer and set it first)"),
        f"  Mailboxes:     {ids}",
    ]


def describe(plan: Plan) -> list[str]:
    """The plan as diff lines: '~' changes, '=' already right, '+' new."""
    lines: list[str] = []
    for item in plan.items:
        status = {"none": "already right", "skip": "skipped", "manual": "waiting for steps by hand"}.get(item.action, item.action)
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
        lines.extend(f"  by hand: {step}" for step in item.console)
    return lines


def _reason(ex: Exception) -> str:
    """A one-line reason naming what failed (explanations never hold secrets)."""
    explanation = getattr(ex, "explanation", None)
    text = str(ex)
    return f"{text} ({explanation})" if explanation and explanation not in text else text
