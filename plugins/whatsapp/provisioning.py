"""`bling provision` for WhatsApp: point each WhatsApp sender's webhook at Bling, say what only the console can do.

Twilio's Senders API (messaging.twilio.com/v2/Channels/Senders, reached
through ``TwilioGateway``) lists the account's WhatsApp senders; the one
whose ``sender_id`` is ``whatsapp:<hotline number>`` gets the webhook Bling
wants: inbound messages to the route ``twilio-whatsapp``, status callbacks
to ``twilio-sms-status`` (both POST). Registering a sender (Meta business
verification, accepting Twilio's invitation in Meta Business Manager) and
getting a template approved cannot be done from here: they become the
item's ``console`` steps. A sender that is not ONLINE still gets its
webhook, so it is right the moment Meta lets it go online.
"""

from __future__ import annotations

from bling.declarations import Change, Item
from bling.routing.urls import find_route

TRANSPORT = "whatsapp"
INBOUND_ROUTE = "twilio-whatsapp"
STATUS_ROUTE = "twilio-sms-status"
#: The webhook fields Bling sets (the sender's fallback URL is left as it is).
WEBHOOK_FIELDS = ("callback_url", "callback_method", "status_callback_url", "status_callback_method")
REGISTER = ("register {number} as a WhatsApp sender: Twilio Console › Messaging › Senders › WhatsApp senders "
            "(it needs a Meta Business Manager account; Meta's business verification can take 1–2 weeks, and "
            "more than 2 senders need it); then run `bling provision --apply` again")
#: What each sender status (Senders API ``status``) leaves to do, in the console or by waiting.
STATUS_STEPS = {
    "CREATING": "Twilio is still creating the sender: wait, then run `bling check --live` again",
    "DRAFT": "the sender is a draft: finish its registration in Twilio Console › Messaging › Senders › WhatsApp senders",
    "STUBBED": "the sender is only a stub: finish its registration in Twilio Console › Messaging › Senders › "
               "WhatsApp senders",
    "PENDING_VERIFICATION": "verify the number: enter the code WhatsApp sent to {number} in Twilio Console › "
                            "Messaging › Senders › WhatsApp senders",
    "VERIFYING": "WhatsApp is verifying the number: wait, then run `bling check --live` again",
    "TWILIO_REVIEW": "Twilio is reviewing the sender: wait for its e-mail, then run `bling check --live` again",
    "OFFLINE": "the sender is OFFLINE: see why in Twilio Console › Messaging › Senders › WhatsApp senders",
}
#: What an ``offline_reasons`` code asks for (SKILL manage-senders: 63020).
OFFLINE_STEPS = {
    63020: "accept Twilio's invitation in Meta Business Manager (Business settings › Requests) for {number}",
}
TEMPLATE_STEP = ("mailbox {mailbox}: no whatsapp_template_sid, so agent replies more than 24 hours after the "
                 "supporter's last message are not sent: create a UTILITY template with {{{{1}}}} for the agent's "
                 "text (Twilio Console › Messaging › Content Template Builder), submit it to WhatsApp for approval, "
                 "then set whatsapp_template_sid = \"HX…\" for the mailbox in BLING_CONFIG")


def plan_senders(services, mailboxes) -> list[Item]:
    """One item per WhatsApp hotline among ``mailboxes`` (none when there is none)."""
    ours = [m for m in mailboxes if m.transport == TRANSPORT]
    if not ours:
        return []
    wanted = desired_webhook(services)
    if wanted is None:
        return [_item(m, action="skip", notes=[f"routes.toml has no route named {INBOUND_ROUTE!r}: Bling does not "
                                                "serve WhatsApp, so the sender is left alone"]) for m in ours]
    try:
        senders = services.twilio.list_senders(TRANSPORT)
    except Exception as ex:
        reason = getattr(ex, "explanation", None) or str(ex)
        return [_item(m, action="error", error=f"could not list the WhatsApp senders: {ex}"
                      + (f" ({reason})" if reason not in str(ex) else "")) for m in ours]
    return [plan_sender(services, m, senders, wanted) for m in ours]


def desired_webhook(services) -> dict[str, str] | None:
    """The sender webhook Bling wants, or None when routes.toml does not serve WhatsApp."""
    from bling.ops.provision import require_public_url

    inbound = find_route(services, INBOUND_ROUTE)
    if inbound is None:
        return None
    base = require_public_url(services.settings)
    status = find_route(services, STATUS_ROUTE)
    wanted = {"callback_url": base + inbound.path, "callback_method": "POST"}
    if status is not None:
        wanted.update(status_callback_url=base + status.path, status_callback_method="POST")
    return wanted


def plan_sender(services, mailbox, senders: list[dict], wanted: dict[str, str]) -> Item:
    """Compare the sender of ``mailbox``'s number with ``wanted``; say what the console must do."""
    number = mailbox.address
    sender = next((s for s in senders if s.get("sender_id") == f"{TRANSPORT}:{number}"), None)
    item = _item(mailbox)
    if sender is None:
        item.action = "manual"
        others = ", ".join(s.get("sender_id") or "?" for s in senders) or "none"
        item.notes.append(f"no WhatsApp sender of Twilio account {services.twilio.account_sid} is "
                          f"{TRANSPORT}:{number} (its WhatsApp senders: {others})")
        item.console.append(REGISTER.format(number=number))
    else:
        item.ref = sender["sid"]
        current = sender.get("webhook") or {}
        item.changes = [Change(name, current.get(name), value) for name, value in wanted.items()]
        if any(change.differs for change in item.changes):
            item.action = "update"
            item.apply = lambda: services.twilio.update_sender_webhook(sender["sid"], wanted)
        item.console.extend(_status_steps(sender, number))
    if _template_sid(services.settings, mailbox) == "":  # optional: free-form replies work inside the window
        item.notes.append(TEMPLATE_STEP.format(mailbox=mailbox.mailbox_id))
    return item


def _status_steps(sender: dict, number: str) -> list[str]:
    """What is left before the sender can carry messages (nothing when ONLINE)."""
    status = str(sender.get("status") or "")
    if status.startswith("ONLINE"):
        return []
    steps = [STATUS_STEPS.get(status, f"the sender's status is {status or 'unknown'}: see Twilio Console › "
                                      "Messaging › Senders › WhatsApp senders").format(number=number)]
    for reason in sender.get("offline_reasons") or []:
        code = reason.get("code") if isinstance(reason, dict) else None
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            pass
        if code in OFFLINE_STEPS:
            steps.append(OFFLINE_STEPS[code].format(number=number))
        elif isinstance(reason, dict) and reason.get("message"):
            steps.append(f"Twilio says: {reason['message']} (error {code})")
    return steps


def _template_sid(settings, mailbox) -> str | None:
    """The mailbox's ``whatsapp_template_sid``: "" when none is set, None when no plugin declares the option."""
    return getattr(settings.options(mailbox), "whatsapp_template_sid", None)


def _item(mailbox, **values) -> Item:
    return Item("whatsapp-sender", f"WhatsApp sender {mailbox.address} (mailbox {mailbox.mailbox_id})",
                mailbox=mailbox, **values)
