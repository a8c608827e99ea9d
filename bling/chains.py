"""Resolve routes.toml against the loaded plugins: one compiled Chain per route."""

from __future__ import annotations

from dataclasses import dataclass

import pluggy

from .errors import ConfigError
from .plugin_loader import PluginInfo, chain_manager
from .routes import Route


@dataclass
class Chain:
    """A route with its verifier, schema and chain resolved to objects."""

    route: Route
    verifier: object
    schema: object
    hooks: pluggy.PluginManager  # only this chain's plugins, in order

    def triage(self, context, event) -> str | None:
        return self.hooks.hook.triage_event(context=context, event=event)

    def handle(self, context, event) -> list:
        return self.hooks.hook.handle_event(context=context, event=event)

    def fail(self, context, event, error: str) -> None:
        self.hooks.hook.handle_failure(context=context, event=event, error=error)


def compile_chains(routes: list[Route], pm: pluggy.PluginManager, infos: dict[str, PluginInfo],
                   routes_path: str) -> list[Chain]:
    """Resolve every name in ``routes``; raise ConfigError naming file, route and key."""
    verifiers = _merged(pm.hook.bling_verifiers())
    schemas = _merged(pm.hook.bling_schemas())
    chains = []
    for route in routes:
        where = f"{routes_path}: route {route.path}"
        if route.verify not in verifiers:
            raise ConfigError(f"{where}: key 'verify': unknown verifier {route.verify!r} (known: {', '.join(sorted(verifiers))})")
        if route.schema not in schemas:
            raise ConfigError(f"{where}: key 'schema': unknown schema {route.schema!r} (known: {', '.join(sorted(schemas))})")
        plugins = []
        for name in route.chain:
            if name not in infos:
                known = ", ".join(sorted(n for n in infos if "." not in n))
                raise ConfigError(f"{where}: key 'chain': unknown plugin {name!r} (known: {known})")
            plugins.append((name, infos[name].module))
        for name in route.options:
            if name not in route.chain:
                raise ConfigError(f"{where}: key 'options.{name}': {name!r} is not in this route's chain")
        chains.append(Chain(route, verifiers[route.verify], schemas[route.schema](), chain_manager(plugins)))
    return chains


def _merged(results: list[dict]) -> dict:
    merged: dict = {}
    for result in results:
        for name, value in (result or {}).items():
            if name in merged:
                raise ConfigError(f"two plugins register the name {name!r}")
            merged[name] = value
    return merged
