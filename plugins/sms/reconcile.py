"""Reconciliation: ingest texts Twilio received while Bling was down or unreachable.

Lists each hotline number's recent inbound messages through Twilio's API
(older than ``IN_FLIGHT``: a younger one's webhook may be on its way) and
accepts any whose MessageSid the inbox does not hold, under the same
idempotency key as the webhook — so a text is never ingested twice, by
whichever path arrives second.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

log = logging.getLogger("bling.reconcile")

#: How far back the periodic run looks.
DEFAULT_WINDOW = timedelta(hours=2)
#: Texts younger than this are left alone: their webhook may still be on its way (Twilio waits
#: 15 s per try and tries again), and ingesting one first would put it ahead of texts sent before it.
IN_FLIGHT = timedelta(minutes=5)
SMS_SCHEMA = "twilio_sms"


def reconcile(services, since: datetime | None = None, now: datetime | None = None) -> dict[str, int]:
    """Accept missing inbound texts for every Twilio hotline; return counts."""
    now = now or datetime.fromtimestamp(services.store.clock(), timezone.utc)
    since = since or now - DEFAULT_WINDOW
    chain = next((c for c in services.chains if c.route.schema == SMS_SCHEMA), None)
    counts = {"seen": 0, "ingested": 0, "already": 0}
    if chain is None:
        log.warning("no route uses the %s schema: nothing to reconcile into", SMS_SCHEMA)
        return counts
    for mailbox in services.settings.mailboxes:
        if mailbox.transport != "twilio":
            continue
        for message in services.twilio.list_inbound(mailbox.number, since):
            if message["date_sent"] and message["date_sent"] > now - IN_FLIGHT:
                continue  # its webhook may still arrive: the next run decides
            counts["seen"] += 1
            event = {"message_sid": message["sid"], "account_sid": services.settings.twilio_account_sid,
                     "from_": message["from"], "to": message["to"], "body": message["body"],
                     "num_media": message["num_media"], "media": [], "messaging_service_sid": None,
                     "opt_out_type": None}
            key = chain.schema.idempotency_key(event)
            if services.store.has_key(key):
                counts["already"] += 1
                continue
            if message["num_media"]:
                event["media"] = services.twilio.list_media(message["sid"])
            _inbox_id, new = services.store.accept(key, chain.route.path, chain.schema.supporter_key(event, services.settings),
                                                   event, lane=chain.route.lane)
            if new:
                counts["ingested"] += 1
                log.warning("reconciled text %s from Twilio's records (the webhook never arrived)", key)
            else:
                counts["already"] += 1
    return counts
