"""Find plugins (built-in, the local plugins/ folder, installed packages).

One name is used everywhere for a plugin: its file stem, package or
entry-point name, its name in routes.toml chains and its ``options.<name>``
table. Two plugins with one name stop start-up: nothing shadows silently.

A feature is a package (``plugins/sms/``, or an installed one): the package
itself is a plugin named after it (it hands the host its schemas, tables,
options, settings, periodic tasks and commands), and each module it lists
in ``PLUGINS`` is a plugin in its own right, named after the module (the
steps routes.toml chains name, transports …).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pluggy

from bling import hookspecs
from bling.errors import ConfigError

#: Host modules that are plugins themselves (payload schemas, verifiers).
BUILTIN_MODULES = ("bling.payloads", "bling.edge.verifiers")
LOCAL_PACKAGE = "bling_local_plugins"
ENTRY_POINT_GROUP = "bling"


@dataclass(frozen=True)
class PluginInfo:
    """Where a loaded plugin came from, for ``bling plugins``."""

    name: str
    source: str  # "built-in", "local: <path>", "package: <dist> <version>"
    module: object


def new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("bling")
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(plugins_dir: str | None, allow: tuple[str, ...] | None = None,
                 entry_points: bool = True) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """Register every plugin in one manager; return it and their origins."""
    pm = new_manager()
    infos: dict[str, PluginInfo] = {}

    def add(name: str, module: object, source: str) -> None:
        if name in infos:
            raise ConfigError(f"plugin name {name!r} is used twice: by {infos[name].source} and by {source}")
        try:
            pm.register(module, name=name)
        except pluggy.PluginValidationError as ex:
            raise ConfigError(f"plugin {name!r} ({source}): {ex}") from None
        infos[name] = PluginInfo(name, source, module)

    def add_feature(name: str, module: object, source: str) -> None:
        add(name, module, source)
        for step in getattr(module, "PLUGINS", ()):
            try:
                submodule = importlib.import_module(f"{module.__name__}.{step}")
            except ModuleNotFoundError as ex:
                if ex.name != f"{module.__name__}.{step}":
                    raise
                raise ConfigError(f"plugin {name!r} ({source}): PLUGINS names {step!r}, which is not one of its modules ({ex})") from None
            add(step, submodule, f"{source} ({name})")

    for module_name in BUILTIN_MODULES:
        add(module_name, importlib.import_module(module_name), "built-in")
    if plugins_dir and Path(plugins_dir).is_dir():
        for path in sorted(Path(plugins_dir).iterdir()):
            if path.name.startswith(("_", ".")):
                continue
            if path.suffix == ".py":
                add(path.stem, _import_local(path), f"local: {path}")
            elif (path / "__init__.py").is_file():
                add_feature(path.name, _import_local(path), f"local: {path}/")
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allow is not None and ep.name not in allow:
                continue
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown package"
            try:
                module = ep.load()
            except Exception as ex:  # a broken package must say which one it is
                raise ConfigError(f"plugin {ep.name!r} (package: {dist}) failed to import: {ex}") from ex
            add_feature(ep.name, module, f"package: {dist}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as ex:
        name = pm.get_name(ex.plugin) or repr(ex.plugin)
        source = infos[name].source if name in infos else "unknown"
        raise ConfigError(f"plugin {name!r} ({source}): {ex} (a typo in a hook name?)") from None
    return pm, infos


def mount_local_plugins(plugins_dir: str | Path) -> None:
    """Make ``plugins_dir`` importable as ``bling_local_plugins`` (its packages' modules import each other by it)."""
    if LOCAL_PACKAGE not in sys.modules:
        package = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(LOCAL_PACKAGE, None, is_package=True))
        package.__path__ = package.__spec__.submodule_search_locations  # one list: tools reading the spec see the folders
        sys.modules[LOCAL_PACKAGE] = package
    folder = str(Path(plugins_dir).resolve())
    path = sys.modules[LOCAL_PACKAGE].__path__
    if folder in path:
        path.remove(folder)
    path.insert(0, folder)


def _import_local(path: Path):
    """Import plugins/<stem>.py or the package plugins/<name>/ once, under a stable module name."""
    path = path.resolve()
    module_name = f"{LOCAL_PACKAGE}.{path.stem}"
    init = path / "__init__.py" if path.is_dir() else path
    if module_name in sys.modules and getattr(sys.modules[module_name], "__file__", None) == str(init):
        return sys.modules[module_name]
    mount_local_plugins(path.parent)
    for name in [m for m in sys.modules if m.startswith(module_name + ".")]:
        del sys.modules[name]  # another folder's package of the same name (tests)
    spec = importlib.util.spec_from_file_location(
        module_name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as ex:
        del sys.modules[module_name]
        raise ConfigError(f"{path}: failed to import: {ex}") from ex
    return module


def chain_manager(plugins: list[tuple[str, object]]) -> pluggy.PluginManager:
    """Return a manager whose hooks call ``plugins`` in the listed order.

    pluggy calls the last-registered implementation first, so the chain is
    registered back to front.
    """
    pm = new_manager()
    for name, module in reversed(plugins):
        pm.register(module, name=name)
    return pm


def implemented_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Names of the hooks ``plugin`` implements."""
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
