"""daily_tally: how many texts each hotline got, per local day — a feature added without touching Bling.

It shows every way a feature hands the host what it owns (docs/plugins.md):

- ``bling_tables``: its own table, ``bling_daily_tally_texts`` (one row per text, keyed by the
  Twilio message id, so a retried job never counts a text twice);
- ``bling_mailbox_options``: ``tally = false`` in a mailbox's BLING_CONFIG table leaves it uncounted;
- ``bling_settings``: ``BLING_TALLY_KEEP_DAYS`` (default 90), how long rows are kept;
- ``bling_periodic_tasks``: ``daily-tally-prune`` drops older rows once an hour;
- ``bling_commands``: ``bling tally [--days N]`` prints the counts;
- and ``handle_event``, so routes.toml can put ``daily_tally`` in the twilio-sms chain.
"""

from __future__ import annotations

from bling.declarations import PeriodicTask, Setting
from bling.hookspecs import hookimpl

from .counting import count_text, prune
from .tables import TEXTS

#: How often old rows are dropped.
PRUNE_EVERY = 3600.0


@hookimpl
def bling_tables():
    return [TEXTS]


@hookimpl
def bling_mailbox_options():
    from .options import TallyOptions

    return TallyOptions


@hookimpl
def bling_settings():
    return [Setting("BLING_TALLY_KEEP_DAYS", "tally_keep_days", "90", "days of daily tallies kept (1 to 3650)",
                    parse=_days)]


@hookimpl
def bling_periodic_tasks():
    return [PeriodicTask("daily-tally-prune", PRUNE_EVERY, prune)]


@hookimpl
def bling_commands(cli):
    from .command import tally

    cli.add_command(tally)


@hookimpl
def handle_event(context, event):
    """Count this text for its mailbox's local day (once, however often the job runs)."""
    if not context.mailbox_options.tally:
        return None
    return {"tallied": count_text(context, event)}


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of days") from None
    if not 1 <= days <= 3650:
        raise ValueError(f"{days} is out of range (1 to 3650 days)")
    return days
