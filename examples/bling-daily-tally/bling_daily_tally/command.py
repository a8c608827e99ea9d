"""``bling tally``: the counts, per hotline and day (added by ``bling_commands``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from bling.cli.base import services_or_exit

from .counting import counts


@click.command()
@click.option("--days", default=7, show_default=True, help="How many days back, today included.")
def tally(days: int) -> None:
    """How many texts each hotline got, per day."""
    services = services_or_exit()
    since = (datetime.now() - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    rows = counts(services.store, since)
    if not rows:
        click.echo(f"no texts counted since {since}")
        return
    for row in rows:
        mailbox = services.settings.mailbox_by_id(row["mailbox_id"])
        where = f"{mailbox.transport}:{mailbox.address}" if mailbox else "(no longer configured)"
        click.echo(f"{row['day']}  mailbox {row['mailbox_id']:>8}  {where:24}  {row['texts']:>6} texts")
