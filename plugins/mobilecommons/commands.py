"""``bling mobilecommons load``: fetch Mobile Commons texts into Bling, once or on a schedule."""

from __future__ import annotations

import sys
import time
from datetime import datetime

import click

from bling.cli.base import parse_since, services_or_exit
from bling.errors import ConfigError

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Loads with at least this many messages show a progress bar.
PROGRESS_FROM = 50


@click.group()
def mobilecommons() -> None:
    """Mobile Commons: load texts supporters sent to your campaigns."""


@mobilecommons.command("load")
@click.option("--since", default=None,
              help="Start: a duration ago (90m, 2h, 3d) or an ISO time. Default: where the last run stopped "
                   "(less 10 minutes of overlap), or 15 minutes ago on the first run.")
@click.option("--until", default=None, help="End: a duration ago or an ISO time. Default: now.")
@click.option("--no-auto-reply", is_flag=True,
              help="Back-fill: never text first-time supporters the auto-reply for these messages.")
@click.option("--every", default=None, metavar="INTERVAL",
              help="Keep loading every INTERVAL (e.g. 5m) from where the last run stopped, until interrupted.")
def load(since: str | None, until: str | None, no_auto_reply: bool, every: str | None) -> None:
    """Load received texts into the Mobile Commons route's chain (each message once, ever)."""
    from .client import MobileCommonsError
    from .loader import uses_mobilecommons

    if every and until:
        raise click.BadParameter("a scheduled load always runs up to now", param_hint="--until")
    interval = _parse_interval(every) if every else None
    services = services_or_exit()
    if not uses_mobilecommons(services.settings):
        raise click.ClickException("BLING_MAILBOXES has no mobilecommons:<campaign id>:<mailbox id> entry")
    start = parse_since(since) if since else None
    end = _moment(until, "--until") if until else None
    while True:
        try:
            summary = _run(services, start, end, not no_auto_reply)
            click.echo(summary.describe())
        except MobileCommonsError as ex:
            if interval is None:
                raise click.ClickException(f"Mobile Commons: {ex}") from None
            click.echo(f"Mobile Commons: {ex}; trying again in {interval:g}s", err=True)
        except ConfigError as ex:
            raise click.ClickException(f"configuration error: {ex}") from None
        if interval is None:
            return
        start = None  # later runs go on from the cursor
        time.sleep(interval)


def _run(services, since, until, auto_reply: bool):
    from .loader import LoadSummary, advance_cursor, fetch, ingest, window

    since, until = window(services, since, until)
    err = sys.stderr  # progress and pages on stderr; the summary alone on stdout

    def on_page(number: int, count: int | None) -> None:
        click.echo(f"fetched page {number}" + (f" of {count}" if count else ""), file=err)

    messages = fetch(services, since, until, on_page=on_page)
    summary = LoadSummary(since, until)
    if len(messages) >= PROGRESS_FROM:
        with click.progressbar(messages, label="Loading Mobile Commons texts", show_pos=True, file=err) as bar:
            ingest(services, bar, summary, auto_reply)
    else:
        ingest(services, messages, summary, auto_reply)
    advance_cursor(services, until)
    return summary


def _moment(value: str, hint: str) -> datetime:
    try:
        return parse_since(value)
    except click.BadParameter:
        raise click.BadParameter(f"{value!r} is neither a duration like 2h nor an ISO time", param_hint=hint) from None


def _parse_interval(value: str) -> float:
    """'5m' → 300.0 seconds; at least a minute, so Mobile Commons is not hammered."""
    unit = value[-1:]
    if not value[:-1].isdigit() or unit not in DURATION_UNITS:
        raise click.BadParameter(f"{value!r} is not a duration like 30s, 5m or 1h", param_hint="--every")
    seconds = int(value[:-1]) * DURATION_UNITS[unit]
    if seconds < 60:
        raise click.BadParameter("load at most once a minute", param_hint="--every")
    return float(seconds)

