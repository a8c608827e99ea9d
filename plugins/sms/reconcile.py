"""Reconciliation: ingest texts Twilio received while Bling was down or unreachable.

Lists each hotline number's recent inbound messages through Twilio's API
(older than ``IN_FLIGHT``: a younger one's webhook may be on its way) and
feeds each, as the webhook's form would carry it, through the host's one
way in (``bling.routing.accept``) into the SMS route: the same schema, the same
idempotency key (a text is never ingested twice, by whichever path arrives
second) and the same triage as the webhook. An MMS's media are listed only
for a text the inbox does not hold yet.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from bling.errors import ConfigError
from bling.routing.accept import ACCEPTED, DUPLICATE, IGNORED, accept

log = logging.getLogger("bling.reconcile")

#: How far back the periodic run looks.
DEFAULT_WINDOW = timedelta(hours=2)
#: Texts younger than this are left alone: their webhook may still be on its way (Twilio waits
#: 15 s per try and tries again), and ingesting one first would put it ahead of texts sent before it.
IN_FLIGHT = timedelta(minutes=5)
#: The route (routes.toml ``name``) whose webhook the missed texts stand in for.
SMS_ROUTE = "twilio-sms"


def reconcile(services, since: datetime | None = None, now: datetime | None = None) -> dict[str, int]:
    """Accept missing inbound texts for every Twilio hotline; return counts."""
    now = now or datetime.fromtimestamp(services.store.clock(), timezone.utc)
    since = since or now - DEFAULT_WINDOW
    counts = {"seen": 0, "ingested": 0, "already": 0, "ignored": 0, "invalid": 0}
    try:
        services.chain_named(SMS_ROUTE)
    except ConfigError as ex:
        log.warning("nothing to reconcile into: %s", ex)
        return counts
    for mailbox in services.settings.mailboxes:
        if mailbox.transport != "twilio":
            continue
        for message in services.twilio.list_inbound(mailbox.number, since):
            if message["date_sent"] and message["date_sent"] > now - IN_FLIGHT:
                continue  # its webhook may still arrive: the next run decides
            counts["seen"] += 1
            outcome = accept(services, SMS_ROUTE, _form(message, services.settings.twilio_account_sid), via="reconcile",
                             check_first=True, complete=_with_media(services, message),
                             accepted_level=logging.WARNING)  # the webhook never arrived: worth a look
            counts[{ACCEPTED: "ingested", DUPLICATE: "already", IGNORED: "ignored"}.get(outcome.status, "invalid")] += 1
    return counts


def _form(message: dict, account_sid: str) -> dict:
    """The fields Twilio's webhook would have posted for ``message`` (media added by ``_with_media``)."""
    return {"MessageSid": message["sid"], "AccountSid": account_sid, "From": message["from"], "To": message["to"],
            "Body": message["body"], "NumMedia": str(message["num_media"])}


def _with_media(services, message: dict):
    """Add an MMS's ``MediaUrl<N>``/``MediaContentType<N>`` (one API call, only for a text Bling lacks)."""
    if not message["num_media"]:
        return None

    def complete(form: dict) -> dict:
        form = dict(form)
        for index, item in enumerate(services.twilio.list_media(message["sid"])):
            form[f"MediaUrl{index}"], form[f"MediaContentType{index}"] = item["url"], item["content_type"]
        return form

    return complete
