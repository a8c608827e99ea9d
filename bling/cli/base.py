"""The ``bling`` command group and what every command module shares.

Command modules (bling/cli/main.py and the cli_* modules) import this one and add
their commands to ``main``; bling/cli/main.py imports them all, so nothing here
imports a command module (no import cycle).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

import click

from bling.cli.sandbox import LazyCommands, environ, in_sandbox
from bling.errors import ConfigError
from bling.config.settings import load_settings, plugin_allowlist, route_table_paths
from bling.routing.plugin_loader import load_plugins

log = logging.getLogger("bling.cli")  # the service's own lines (banners) are log records: one JSON object each


def settings_or_exit():
    """The settings, or a one-line error; in the sandbox, the sandbox's (bling/cli/sandbox.py)."""
    try:
        return load_settings(environ())
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None


def services_or_exit(**kwargs):
    from sqlalchemy.exc import OperationalError

    from bling.services import build_services

    settings = settings_or_exit()
    try:
        return build_services(settings, **kwargs)
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None
    except OperationalError as ex:  # e.g. PostgreSQL down: one line, not a traceback
        raise click.ClickException(f"the store is unreachable: {store_problem(settings.store_url, ex)}") from None


def store_problem(store_url: str, ex: Exception) -> str:
    """One line naming the store (without its password) and the driver's first line of complaint."""
    from sqlalchemy.engine import make_url

    shown = make_url(store_url).render_as_string(hide_password=True)
    reason = str(getattr(ex, "orig", None) or ex).strip().splitlines()[0]
    return f"BLING_STORE_URL={shown}: {reason}"


@click.group(cls=LazyCommands)
@click.option("--log-level", default=lambda: os.environ.get("BLING_LOG_LEVEL", "INFO"), show_default="INFO")
def main(log_level: str) -> None:
    """Bling: a hotline between Twilio and Help Scout."""
    from bling.ops.logs import configure, log_uncaught_exceptions  # one JSON object per line, secrets redacted

    try:
        configure(log_level, sandbox=in_sandbox())
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None
    log_uncaught_exceptions()


def parse_since(value: str) -> datetime:
    """Parse '2h' / '90m' / '3d' or an ISO-8601 time into an aware UTC datetime."""
    from datetime import timedelta

    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(timezone.utc) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a duration like 2h nor an ISO time", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def add_plugin_commands(cli: click.Group) -> None:
    """Give every loaded plugin its say on the command line (``bling_commands``).

    A broken plugin does not take the whole command line down: the
    commands that load plugins (``bling check``, ``bling plugins``) name it.
    """
    try:
        pm, _infos = load_plugins(route_table_paths()[1], plugin_allowlist())
    except ConfigError as ex:
        log.debug("plugin commands not added: %s", ex)
        return
    pm.hook.bling_commands(cli=cli)
