"""``bling provision`` and the ``--live`` part of ``bling check``."""

from __future__ import annotations

import click

from bling.cli.base import main, services_or_exit
from bling.errors import ConfigError


@main.command()
@click.option("--mailbox", "mailbox_id", type=int, default=None, help="Only this Help Scout mailbox's hotlines (its number, its WhatsApp sender).")
@click.option("--apply", "apply_", is_flag=True, help="Make the changes (default: only show them).")
def provision(mailbox_id: int | None, apply_: bool) -> None:
    """Point the Twilio numbers, the Help Scout webhook and the features' senders at Bling (shows a diff; --apply sets it)."""
    from bling.ops import provision as prov

    services = services_or_exit()
    try:
        plan = prov.make_plan(services, mailbox_id)
        routes = prov.route_table(services.settings)
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None
    if apply_:
        prov.apply_plan(services, plan)
    for line in prov.describe(plan):
        click.echo(line)
    pending = [i for i in plan.items if i.pending and not i.applied]
    click.echo("")
    if not apply_ and pending:
        click.echo(f"Dry run: {len(pending)} change(s) not made. Run `bling provision --apply` to make them.")
    elif not plan.failed and not plan.console:
        click.echo("Everything is set." if apply_ or not pending else "")
    if plan.console:
        click.echo(f"Still to do by hand: {len(plan.console)} step(s), marked 'by hand:' above "
                   "(Bling cannot do them through the providers' APIs).")
    manual = prov.manual_steps(services.settings, routes)
    if services.settings.sandbox and manual:  # the sandbox page plays Help Scout's sidebar app itself
        manual = ["SANDBOX: the sidebar app needs no setting up; open a conversation on the /sandbox page."]
    if manual:
        click.echo("")
        for line in manual:
            click.echo(line)
    if plan.failed:
        raise click.ClickException("some items could not be provisioned (marked '!' above)")


def live_check() -> None:
    """Run ``bling check --live``: verify the credentials and set-up against both APIs."""
    from bling.ops.live_check import FIX, run_checks, table

    services = services_or_exit()
    rows = run_checks(services)
    click.echo("")
    click.echo("Live checks against Twilio and Help Scout:")
    for line in table(rows):
        click.echo(line)
    problems = [r for r in rows if r.status == FIX]
    if problems:
        raise click.ClickException(f"{len(problems)} thing(s) to fix (marked FIX above)")
