"""``bling sms``: what happened to the texts Bling sent, and who opted out."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from bling.cli.base import parse_since, services_or_exit
from bling.phones import to_e164
from .state import opted_out_list, recent_messages


@click.group()
def sms() -> None:
    """Delivery status of sent texts and opted-out supporters."""


@sms.command("status")
@click.option("--to", "phone", default=None, help="Only texts to this number (any format).")
@click.option("--failed", is_flag=True, help="Only texts that ended failed or undelivered.")
@click.option("--limit", default=50, show_default=True)
def sms_status(phone: str | None, failed: bool, limit: int) -> None:
    """List texts Bling sent, newest first, with Twilio's latest delivery status."""
    number = None
    if phone:
        number = to_e164(phone)
        if number is None:
            raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--to")
    services = services_or_exit()
    rows = recent_messages(services.store, number, failed, limit)
    if not rows:
        to = f" to {number}" if number else ""
        if failed and recent_messages(services.store, number, False, 1):
            click.echo(f"no failed texts{to}: every text recorded was delivered or is on its way")
        else:
            click.echo(f"no texts recorded{to}")
    for row in rows:
        error = f" error {row['error_code']}" if row["error_code"] else ""
        conversation = f" conversation {row['conversation_id']}" if row["conversation_id"] else ""
        click.echo(f"{_when(row['sent_at'])}  {row['sid']}  {row['phone']:16} {row['status']:11}{error}{conversation}")


@sms.command("opt-outs")
@click.option("--limit", default=500, show_default=True)
def sms_opt_outs(limit: int) -> None:
    """List supporters who opted out (they texted STOP), per hotline."""
    services = services_or_exit()
    rows = opted_out_list(services.store, limit)
    if not rows:
        click.echo("nobody has opted out")
    for row in rows:
        click.echo(f"{_when(row['changed_at'])}  {row['hotline']:24} {row['phone']:16} {row['source']}")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@click.command()
@click.option("--since", default="2h", show_default=True,
              help="How far back: a duration (90m, 2h, 3d) or an ISO time (2026-11-25T08:00:00Z).")
def reconcile(since: str) -> None:
    """Ingest texts Twilio received that never reached Bling (never twice)."""
    from .reconcile import reconcile as run

    services = services_or_exit()
    counts = run(services, since=parse_since(since))
    click.echo(f"{counts['seen']} received, {counts['ingested']} ingested, {counts['already']} already in Bling, "
               f"{counts['ignored']} ignored, {counts['invalid']} invalid")


COMMANDS = (sms, reconcile)
