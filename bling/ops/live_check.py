"""``bling check --live``: ask Twilio and Help Scout whether Bling's settings work.

Each row says what was checked, whether it is right, and what to do if not:
the Twilio credentials (and a trial account's limits), each hotline number
(owned by the account, able to text, pointed at Bling), what features set up
(``bling_provision``: e.g. a WhatsApp sender, online and pointed at Bling),
the Help Scout app credentials, access to each mailbox, and the webhook
(present, enabled, for the agent-reply event and Bling's mailboxes). Reads
only; changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bling.ops import provision
from bling.routing.urls import find_route

OK, FIX, WARN = "ok", "FIX", "warn"


@dataclass
class Row:
    status: str  # ok | FIX | warn
    what: str
    detail: str


def run_checks(services) -> list[Row]:
    """Every live check, in the order an operator would fix them."""
    settings = services.settings
    rows: list[Row] = []
    base = settings.public_base()
    rows.append(Row(OK, "BLING_PUBLIC_URL", base) if base else
                Row(FIX, "BLING_PUBLIC_URL", "not set: Twilio and Help Scout cannot reach Bling; set it to Bling's https URL"))
    twilio_ok = _check_twilio_account(services, rows)
    helpscout_ok = _check_helpscout(services, rows)
    if not base:
        return rows
    routes = provision.route_table(settings)
    if twilio_ok:
        wanted = provision.desired_number(settings, routes)
        for mailbox in settings.mailboxes:
            if mailbox.transport == "twilio":
                rows.extend(_number_rows(provision.plan_number(services.twilio, mailbox, wanted)))
    rows.extend(feature_rows(services))
    if helpscout_ok and find_route(routes, provision.WEBHOOK_ROUTE):
        rows.extend(_webhook_rows(provision.plan_webhook(services.helpscout, provision.desired_webhook(settings))))
    return rows


def _check_twilio_account(services, rows: list[Row]) -> bool:
    try:
        account = services.twilio.fetch_account()
    except Exception as ex:
        return _not_signed_in(rows, ex, "Twilio", services.settings.twilio_api_url, "BLING_TWILIO_API_URL",
                              "copy the Account SID and primary Auth Token from the Twilio Console into "
                              "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN")
    label = f"account {account['sid']} ({account.get('type') or '?'}, {account.get('status') or '?'})"
    if account.get("status") not in (None, "active"):
        rows.append(Row(FIX, "Twilio credentials", f"{label}: the account is not active"))
        return False
    rows.append(Row(OK, "Twilio credentials", label))
    if account.get("type") == "Trial":
        rows.append(Row(WARN, "Twilio account type", "a trial account texts only verified numbers; upgrade it"))
    return True


def _unreachable(ex: BaseException) -> bool:
    """Whether the API never answered (DNS, connection, timeout): then the credentials were not tried."""
    import requests

    seen = set()
    while ex is not None and id(ex) not in seen:
        seen.add(id(ex))
        if isinstance(ex, (requests.ConnectionError, requests.Timeout, OSError)):
            return True
        ex = ex.__cause__ or ex.__context__
    return False


def _not_signed_in(rows: list[Row], ex: Exception, service: str, base_url: str, setting: str, advice: str) -> bool:
    """One row for a failed sign-in: the API never answered (so the credentials were not tried), or it
    refused them. Returns False, the check's outcome."""
    if _unreachable(ex):
        rows.append(Row(FIX, f"{service} API", f"could not reach {base_url} ({provision._reason(ex)}); check DNS, "
                        f"the network or a proxy, and {setting}. The credentials were not checked"))
    else:
        rows.append(Row(FIX, f"{service} credentials", f"{provision._reason(ex)}; {advice}"))
    return False


def _check_helpscout(services, rows: list[Row]) -> bool:
    try:
        services.helpscout.token()
    except Exception as ex:
        return _not_signed_in(rows, ex, "Help Scout", services.settings.helpscout_api_url, "BLING_HELPSCOUT_API_URL",
                              "check HELPSCOUT_API_CLIENT_ID / HELPSCOUT_API_CLIENT_SECRET (Your Profile › My Apps) "
                              "and that the app's user is active")
    rows.append(Row(OK, "Help Scout credentials", f"app {services.settings.helpscout_client_id} has a token"))
    for mailbox in services.settings.mailboxes:
        what = f"Help Scout mailbox {mailbox.mailbox_id}"
        try:
            found = services.helpscout.get_mailbox(mailbox.mailbox_id)
            rows.append(Row(OK, what, f"{found.get('name', '?')} <{found.get('email', '?')}>"))
        except Exception as ex:
            rows.append(Row(FIX, what, f"{provision._reason(ex)}; give the app's user access to this mailbox, "
                            "or fix BLING_MAILBOXES"))
    return True


def _number_rows(item: provision.Item) -> list[Row]:
    what = item.label
    if item.action == "error":
        return [Row(FIX, what, item.error or "")]
    rows = [Row(WARN, what, note) for note in item.notes]
    wrong = [c for c in item.changes if c.differs]
    if wrong:
        fields = ", ".join(c.name for c in wrong)
        rows.append(Row(FIX, what, f"{fields} not pointed at Bling; run `bling provision --apply`"))
    else:
        rows.append(Row(OK, what, "owned by the account and pointed at Bling"))
    return rows


def feature_rows(services) -> list[Row]:
    """The rows of what features set up (``bling_provision``), e.g. WhatsApp senders."""
    items = provision.feature_items(services, services.settings.mailboxes)
    return [row for item in items for row in _feature_rows(item)]


def _feature_rows(item: provision.Item) -> list[Row]:
    """A feature's item: its error, changes to make, console steps (FIX) and notes (warn), else ok."""
    what = item.label
    if item.action == "error":
        return [Row(FIX, what, item.error or "")]
    rows = [Row(WARN, what, note) for note in item.notes]
    rows += [Row(FIX, what, f"by hand: {step}") for step in item.console]
    wrong = [c.name for c in item.changes if c.differs]
    if item.pending:
        rows.append(Row(FIX, what, f"{', '.join(wrong) or item.action} not as Bling needs; run `bling provision --apply`"))
    elif not item.console and item.action != "skip":
        rows.append(Row(OK, what, "set up for Bling"))
    return rows


def _webhook_rows(item: provision.Item) -> list[Row]:
    what = "Help Scout webhook"
    if item.action == "error":
        return [Row(FIX, what, item.error or "")]
    if item.action == "create":
        return [Row(FIX, what, f"none points at {item.label.split()[-1]}; run `bling provision --apply`")]
    rows = [Row(WARN, what, note) for note in item.notes if "secret" not in note and "disabled" not in note]
    if item.action == "recreate":
        rows.append(Row(FIX, what, "disabled by Help Scout (too many failed deliveries?); run `bling provision --apply`"))
    elif item.action == "update":
        fields = ", ".join(c.name for c in item.changes if c.differs)
        rows.append(Row(FIX, what, f"{fields} not as Bling needs; run `bling provision --apply`"))
    else:
        rows.append(Row(OK, what, f"enabled, agent replies of mailboxes {_ids(item)}"))
    return rows


def _ids(item: provision.Item) -> str:
    change = next((c for c in item.changes if c.name == "mailboxIds"), None)
    return ", ".join(str(i) for i in change.desired) if change else "?"


def table(rows: list[Row]) -> list[str]:
    """Rows as aligned text lines."""
    width = max((len(r.what) for r in rows), default=0)
    return [f"{r.status:5} {r.what.ljust(width)}  {r.detail}" for r in rows]
