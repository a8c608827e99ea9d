"""``bling health``: /healthz with the details the public answer leaves out (what failed, where)."""

from __future__ import annotations

import json

import click

from bling.cli.base import main, services_or_exit


@main.command("health")
def health() -> None:
    """Print the health report with the last failures' details; exit 1 when unhealthy."""
    from bling.ops.health import health_report

    services = services_or_exit()
    status, report = health_report(services, details=True)
    click.echo(json.dumps(report, indent=2, default=str))
    if status != 200:
        raise SystemExit(1)
