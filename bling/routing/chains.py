"""Resolve routes.toml against the loaded plugins: one compiled Chain per route."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pluggy
from marshmallow import RAISE, Schema, ValidationError

from bling.errors import ConfigError
from bling.payloads import EventSchema
from bling.routing.plugin_loader import PluginInfo, chain_manager
from bling.routing.routes import Route

log = logging.getLogger("bling.chains")


@dataclass
class Chain:
    """A route with its verifier, schema and chain resolved to objects."""

    route: Route
    verifier: object | None  # None for a route that takes no HTTP request (methods = [])
    schema: EventSchema
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
        route = replace(route, options=load_options(where, route, infos))
        chains.append(Chain(route, verifiers.get(route.verify), schemas[route.schema](), chain_manager(plugins),
                            chain_manager(background) if background else None))
    check_routes_needed(routes, infos, routes_path)
    return chains


def check_routes_needed(routes: list[Route], infos: dict[str, PluginInfo], routes_path: str) -> None:
    """Every route a plugin of a chain builds a URL for is in routes.toml, by name.

    A plugin names them in its module's ``NEEDS_ROUTES`` (a tuple of route names: the TwiML
    callbacks and links it writes). ``url_for`` would refuse a missing one too, but only when the
    URL is first built: in the middle of a call, while the caller waits for TwiML. Renaming or
    removing such a route stops start-up instead, naming the route, the plugin and the name.
    """
    named = {route.name for route in routes}
    for route in routes:
        for name in dict.fromkeys(route.chain + route.background):
            for needed in getattr(infos[name].module, "NEEDS_ROUTES", ()):
                if needed not in named:
                    raise ConfigError(
                        f"{routes_path}: route {route.path}: plugin {name!r} builds the URL of the route named "
                        f"{needed!r}, which this file lacks (give the [[route]] that serves it name = {needed!r}; "
                        f"named routes: {', '.join(sorted(n for n in named if n))})")


def load_options(where: str, route: Route, infos: dict[str, PluginInfo]) -> dict[str, dict]:
    """Each plugin's ``[route.options.<plugin>]`` loaded with the ``Options`` schema it declares.

    A plugin takes options by declaring a marshmallow ``Schema`` class named ``Options`` (a module
    attribute): its fields give the keys, their types and defaults. Every plugin of the route that
    declares one gets its values (defaults when the route gives none); a key the schema lacks (a
    typo), a bad value, or options for a plugin that declares none stop start-up naming the key.
    """
    loaded: dict[str, dict] = {}
    for name in dict.fromkeys(route.chain + route.background):
        given = route.options.get(name)
        declared = options_schema(name, infos[name].module)
        if declared is None:
            if given is not None:
                legacy = " (its OPTIONS tuple is no longer read: declare an Options schema)" \
                    if hasattr(infos[name].module, "OPTIONS") else " (it declares no Options schema)"
                raise ConfigError(f"{where}: key 'options.{name}': plugin {name!r} takes no options{legacy}")
            continue
        try:
            loaded[name] = declared(unknown=RAISE).load(given or {})
        except ValidationError as ex:
            raise ConfigError(f"{where}: {_option_problem(name, declared, ex.messages)}") from None
    return loaded


def options_schema(name: str, module: object) -> type[Schema] | None:
    """The plugin's ``Options`` schema class, or None when it takes no options."""
    declared = getattr(module, "Options", None)
    if declared is None:
        return None
    if not (isinstance(declared, type) and issubclass(declared, Schema)):
        raise ConfigError(f"plugin {name!r}: Options must be a marshmallow Schema class, not {declared!r}")
    return declared


def _option_problem(name: str, declared: type[Schema], messages: dict) -> str:
    """One sentence naming the first key at fault: an unknown key first (a typo), else a bad value."""
    known = ", ".join(sorted(f.data_key or n for n, f in declared._declared_fields.items())) or "none"
    unknown = sorted(k for k, v in messages.items() if v == ["Unknown field."])
    if unknown:
        return f"key 'options.{name}.{unknown[0]}': plugin {name!r} has no option {unknown[0]!r} (known: {known})"
    key, problem = sorted(messages.items(), key=lambda item: str(item[0]))[0]
    text = " ".join(problem) if isinstance(problem, list) and all(isinstance(p, str) for p in problem) else str(problem)
    return f"key 'options.{name}.{key}': {text}"


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
