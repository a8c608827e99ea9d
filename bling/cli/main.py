"""The ``bling`` command: serve, worker, routes, check, jobs, plugins."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone

import click

from bling.cli.base import add_plugin_commands, log, main, services_or_exit, store_problem
from bling.errors import ConfigError
from bling.config.settings import OPTIONAL, PUBLIC_URL_NEEDED, REQUIRED, load_settings, require_public_url, route_table_paths

DEFAULT_BIND = "127.0.0.1:5000"


@main.command()
@click.option("--bind", default=DEFAULT_BIND, show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", default=2, show_default=True, help="gunicorn web processes.")
@click.option("--no-worker", is_flag=True, help="Serve webhooks only; run `bling worker` elsewhere.")
@click.option("--sandbox", is_flag=True, help="No accounts needed: fake Twilio and Help Scout, page at /sandbox.")
@click.option("--sandbox-if-unconfigured", "auto_sandbox", is_flag=True,
              help="The sandbox when no Twilio/Help Scout setting is present (scripts/serve.sh uses this).")
def serve(bind: str, workers: int, no_worker: bool, sandbox: bool, auto_sandbox: bool) -> None:
    """Serve the webhooks (gunicorn) and, unless --no-worker, a job worker."""
    from bling.cli.first_run import refuse_placeholders, wants_sandbox
    from bling.edge.wsgi import prepare_metrics_dir, run_gunicorn, served_application_factory

    try:
        refuse_placeholders(dict(os.environ))
        sandbox = sandbox or (auto_sandbox and wants_sandbox(dict(os.environ)))
    except ConfigError as ex:
        raise click.ClickException(str(ex)) from None
    prepare_metrics_dir()  # before anything imports prometheus_client (bling/ops/metrics.py)
    if sandbox:
        from bling.cli.sandbox import sandbox_app_factory, serve_module

        sandbox_serve = serve_module()
        try:
            url = sandbox_serve.prepare(bind)
        except ConfigError as ex:
            raise click.ClickException(f"configuration error: {ex}") from None
    services = services_or_exit()  # fail fast, before forking anything
    services.store.close()
    settings = services.settings
    # Every web process builds its own services after the fork: this copy, inherited by each, would only
    # take room in them (bench/README.md, "Memory").
    del services
    gc.collect()
    try:
        from bling.edge.web_worker import connection_seconds

        require_public_url(settings)
        connection_seconds()  # a bad BLING_CONNECTION_SECONDS stops here, not in every web process
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None
    # The web app's own modules (Falcon and the rest), imported once here before the fork rather than
    # by each web process: what importing leaves behind stays in this process (bench/README.md, item 7).
    import bling.edge.app  # noqa: F401

    worker = None
    if not no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "bling.cli", "worker"])
    try:
        if sandbox:
            log.warning("%s", sandbox_serve.announce(url))  # a log record like every line (console format on a terminal)
            sandbox_serve.provision_when_up(url)
            run_gunicorn(bind, workers, threads=8, app_factory=sandbox_app_factory())
        else:
            run_gunicorn(bind, workers, app_factory=served_application_factory)
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


@main.command()
@click.option("--threads", default=2, show_default=True,
              help="Jobs that spend Help Scout's budget run at once (the helpscout lane).")
@click.option("--fast-threads", default=1, show_default=True,
              help="Jobs that start without Help Scout (texting agents' replies) run at once (the fast lane).")
@click.option("--poll", default=0.5, show_default=True, help="Seconds an idle worker waits before looking again "
              "(PostgreSQL also wakes it at once with LISTEN/NOTIFY).")
def worker(threads: int, fast_threads: int, poll: float) -> None:
    """Run jobs: accepted events oldest first, retries, and events whose worker died."""
    from bling.jobs.engine import Engine

    services = services_or_exit()
    log.info("bling worker: %s event(s) waiting", len(services.store.due(10_000)))
    Engine(services, threads=threads, fast_threads=fast_threads, poll=poll).run()


def _route_chains():
    """Compile routes.toml against the plugins; needs no credentials."""
    from bling.config.settings import plugin_allowlist
    from bling.routing.chains import compile_chains
    from bling.routing.plugin_loader import load_plugins
    from bling.routing.routes import load_routes

    routes_path, plugins_dir = route_table_paths()
    pm, infos = load_plugins(plugins_dir, plugin_allowlist())
    return compile_chains(load_routes(routes_path), pm, infos, routes_path), pm, infos


@main.command()
def routes() -> None:
    """Print the route table: name, path, verifier, schema, chain, answer (code asks for a URL by name)."""
    try:
        chains, _pm, _infos = _route_chains()
    except ConfigError as ex:
        raise click.ClickException(f"configuration error: {ex}") from None
    rows = [("NAME", "PATH", "VERIFY", "SCHEMA", "CHAIN", "ANSWER")]
    for chain in chains:
        r = chain.route
        later = f" (then in a worker: {' → '.join(r.background)})" if r.background else ""
        rows.append((r.name or "-", r.path, r.verify or "-", r.schema, " → ".join(r.chain) + later,
                     r.respond if r.takes_http else "(no HTTP: fed by a loader)"))
    rows.append(("-", "/healthz", "-", "-", "-", "JSON"))
    rows.append(("-", "/metrics", "-", "-", "-", "Prometheus text"))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _plugin_settings():
    """The loaded plugins' settings (``bling_settings``), for ``bling check``; none if the plugins do not load."""
    from bling.config.settings import declared_settings, plugin_allowlist
    from bling.routing.plugin_loader import load_plugins

    try:
        return declared_settings(load_plugins(route_table_paths()[1], plugin_allowlist())[0])
    except ConfigError:
        return []  # the route/plugin check below names the problem


@main.command()
@click.option("--live", is_flag=True, help="Also verify credentials and set-up against Twilio and Help Scout.")
def check(live: bool) -> None:
    """Validate the environment, the route table and plugins; say what is missing."""
    from bling.cli.first_run import placeholders

    from bling.cli.sandbox import environ, in_sandbox

    env = dict(os.environ)
    problems = []
    settings, settings_error = None, ""
    if in_sandbox(env):
        try:
            env = environ()  # the sandbox's own settings (bling/cli/sandbox.py)
            click.echo("SANDBOX: the settings below are the sandbox's own (fake accounts)")
        except ConfigError as ex:
            problems.append(str(ex))
            settings_error = str(ex)
    if not settings_error:
        try:
            settings = load_settings(env)
        except ConfigError as ex:
            settings_error = str(ex)
    examples = set(placeholders(dict(os.environ)))
    for name, purpose in REQUIRED.items():
        present = bool(env.get(name, "").strip())
        faulty = name in examples or name in settings_error
        click.echo(f"{'MISSING' if not present else 'BAD' if faulty else 'ok':8} {name}: {purpose}")
        if not present:
            problems.append(f"{name} is not set")
    for name, (default, purpose) in OPTIONAL.items():
        value = env.get(name, "").strip()
        faulty = value and (name in examples or f"{name}:" in settings_error)
        status = "BAD" if faulty else "set" if value else "default"
        click.echo(f"{status:8} {name}: {purpose}" + ("" if value else f" (default {default or 'none'})"))
    for setting in _plugin_settings():
        value = env.get(setting.name, "").strip()
        faulty = value and (setting.name in examples or f"{setting.name}:" in settings_error or setting.name in settings_error)
        status = "BAD" if faulty else "set" if value else "MISSING" if setting.name in settings_error else "default"
        click.echo(f"{status:8} {setting.name}: {setting.purpose}" + ("" if value else f" (default {setting.default or 'none'})"))
    if examples:
        problems.append(f"{', '.join(sorted(examples))}: still the example values of examples/env.example")
    if settings_error and not any(p.endswith("is not set") for p in problems):
        problems.append(settings_error)
    routes_path, _plugins_dir = route_table_paths(env)
    if not env.get("BLING_PUBLIC_URL", "").strip() and not env.get("BLING_SANDBOX", "").strip():
        problems.append(PUBLIC_URL_NEEDED)
    try:
        from bling.edge.web_worker import connection_seconds

        connection_seconds()
    except ConfigError as ex:
        problems.append(str(ex))
    try:
        chains, _pm, infos = _route_chains()
        click.echo(f"ok       {routes_path}: {len(chains)} routes, {len(infos)} plugins")
    except ConfigError as ex:
        problems.append(str(ex))
    if not problems and settings is not None:
        try:
            from bling.store.core import Store

            Store(settings.store_url).ping()
            click.echo(f"ok       store reachable ({settings.store_url.split('://')[0]})")
        except Exception as ex:  # the store may be unreachable
            problems.append(f"the store is unreachable: {store_problem(settings.store_url, ex)}")
    if problems:
        raise click.ClickException("Bling is not ready:\n  " + "\n  ".join(problems))
    click.echo("Bling is ready to serve.")
    if live:
        from bling.cli.provision import live_check

        live_check()


@main.command()
def plugins() -> None:
    """List loaded plugins, where each comes from and the hooks it implements."""
    from bling.routing.plugin_loader import implemented_hooks

    try:
        _chains, pm, infos = _route_chains()
    except ConfigError as ex:
        raise click.ClickException(str(ex)) from None
    for info in infos.values():
        click.echo(f"{info.name:24} {info.source}\n{'':24} hooks: {', '.join(implemented_hooks(pm, info.module))}")


@main.group()
def jobs() -> None:
    """Inspect and replay accepted events (dead letters included)."""


@jobs.command("list")
@click.option("--state", type=click.Choice(["pending", "done", "dead"]), default=None)
@click.option("--limit", default=50, show_default=True)
def jobs_list(state, limit) -> None:
    """List events, newest first."""
    services = services_or_exit()
    rows = services.store.rows(state, limit)
    if not rows:
        click.echo(f"no {state + ' ' if state else ''}jobs")
        return
    click.echo(f"{'ID':>7} {'STATE':8} {'TRIES':>8}  {'CREATED (UTC)':19}  KEY  LAST ERROR")
    for row in rows:
        when = datetime.fromtimestamp(row["created_at"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        error = f"  {row['last_error'][:80]}" if row["last_error"] and row["state"] != "done" else ""
        click.echo(f"{row['id']:>7} {row['state']:8} {row['attempts']:>2} tries  {when}  {row['key']}{error}")


@jobs.command("show")
@click.argument("inbox_id", type=int)
def jobs_show(inbox_id) -> None:
    """Show one event: payload, state, error and the effects it had."""
    services = services_or_exit()
    row = services.store.get(inbox_id)
    if row is None:
        raise click.ClickException(f"no job {inbox_id}")
    row["payload"] = json.loads(row["payload"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    row["effects"] = services.store.effects_of(inbox_id)
    click.echo(json.dumps(row, indent=2, default=str))


@jobs.command("replay")
@click.argument("inbox_ids", type=int, nargs=-1, required=True)
def jobs_replay(inbox_ids) -> None:
    """Put dead letters back in the queue (effects already done are not repeated)."""
    services = services_or_exit()
    for inbox_id in inbox_ids:
        if services.store.replay(inbox_id):
            click.echo(f"{inbox_id}: queued again")
        else:
            click.echo(f"{inbox_id}: not a dead letter", err=True)


from bling.cli import provision as cli_provision  # noqa: E402,F401  (bling provision)
from bling.cli import health as cli_health  # noqa: E402,F401  (bling health)
# bling simulate lives with the fakes: bling/cli/sandbox.py's LazyCommands imports it when it is used.

add_plugin_commands(main)  # bling sms …, bling reconcile, bling mobilecommons load, a third party's own
