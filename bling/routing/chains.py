"""Resolve routes.toml against the loaded plugins: one compiled Chain per route."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pluggy

from bling.errors import ConfigError
from bling.routing.plugin_loader import PluginInfo, chain_manager
from bling.routing.routes import Route

log = logging.getLogger("bling.chains")


@dataclass
class Chain:
    """A route with its verifier, schema and chain resolved to objects."""

    route: Route
    verifier: object | None  # None for a route that takes no HTTP request (methods = [])
    schema: object
    hooks: pluggy.PluginManager  # only this chain's plugins, in order
    background_hooks: pluggy.PluginManager | None = None  # respond = "chain" routes' worker part

    @property
    def job_hooks(self) -> pluggy.PluginManager | None:
        """The plugins a worker runs for accepted events of this route."""
        return self.hooks if self.route.is_job else self.background_hooks

    def triage(self, context, event) -> str | None:
        """The first plugin's reason to ignore the event, in chain order, or None.

        A plugin whose triage raises is logged and counts as "no reason":
        the event is accepted rather than lost or answered 500, and the
        other plugins still have their say.
        """
        kwargs = {"context": context, "event": event}
        for impl in reversed(self.hooks.hook.triage_event.get_hookimpls()):  # pluggy's call order
            try:
                reason = impl.function(*[kwargs[name] for name in impl.argnames])
            except Exception:
                log.exception("plugin %r raised in triage_event on %s; treating the event as not ignored",
                              impl.plugin_name, self.route.path)
                continue
            if reason is not None:
                return reason
        return None

    def handle(self, context, event) -> list:
        """Run the request-time chain (respond = "chain") or, for job routes, the job."""
        return self.hooks.hook.handle_event(context=context, event=event)

    def handle_job(self, context, event) -> list:
        return self.job_hooks.hook.handle_event(context=context, event=event)

    def fail(self, context, event, error: str) -> None:
        self.job_hooks.hook.handle_failure(context=context, event=event, error=error)


def compile_chains(routes: list[Route], pm: pluggy.PluginManager, infos: dict[str, PluginInfo],
                   routes_path: str) -> list[Chain]:
    """Resolve every name in ``routes``; raise ConfigError naming file, route and key."""
    verifiers = _merged(pm.hook.bling_verifiers())
    schemas = _merged(pm.hook.bling_schemas())
    chains = []
    for route in routes:
        where = f"{routes_path}: route {route.path}"
        if route.takes_http and route.verify not in verifiers:
            raise ConfigError(f"{where}: key 'verify': unknown verifier {route.verify!r} (known: {', '.join(sorted(verifiers))})")
        if route.schema not in schemas:
            raise ConfigError(f"{where}: key 'schema': unknown schema {route.schema!r} (known: {', '.join(sorted(schemas))})")
        plugins = _resolve(route.chain, "chain", infos, where)
        background = _resolve(route.background, "background", infos, where)
        for name in route.options:
            if name not in route.chain and name not in route.background:
                raise ConfigError(f"{where}: key 'options.{name}': {name!r} is not in this route's chain")
            _check_option_keys(where, name, route.options[name], infos[name].module)
        chains.append(Chain(route, verifiers.get(route.verify), schemas[route.schema](), chain_manager(plugins),
                            chain_manager(background) if background else None))
    return chains


def _check_option_keys(where: str, name: str, options: dict, module) -> None:
    """A plugin lists the keys it reads in a module-level ``OPTIONS``; any other key is a typo."""
    known = getattr(module, "OPTIONS", None)
    if known is None:
        return
    for key in options:
        if key not in known:
            raise ConfigError(f"{where}: key 'options.{name}.{key}': plugin {name!r} has no option {key!r} "
                              f"(known: {', '.join(sorted(known)) or 'none'})")


def _resolve(names, key: str, infos: dict[str, PluginInfo], where: str) -> list[tuple[str, object]]:
    plugins = []
    for name in names:
        if name not in infos:
            known = ", ".join(sorted(n for n in infos if "." not in n))
            raise ConfigError(f"{where}: key '{key}': unknown plugin {name!r} (known: {known})")
        plugins.append((name, infos[name].module))
    return plugins


def _merged(results: list[dict]) -> dict:
    merged: dict = {}
    for result in results:
        for name, value in (result or {}).items():
            if name in merged:
                raise ConfigError(f"two plugins register the name {name!r}")
            merged[name] = value
    return merged
