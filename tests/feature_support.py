"""What the feature packages' own test modules (tests/test_sms.py …) share."""

from __future__ import annotations

from bling.config.settings import ROOT
from bling.routing.plugin_loader import load_plugins


def feature(name: str):
    """(plugin manager with every local plugin, the package module ``name``) as Bling loads them."""
    pm, infos = load_plugins(str(ROOT / "plugins"), entry_points=False)
    return pm, infos[name].module


def routes_using(services, schema: str) -> list:
    return [chain for chain in services.chains if chain.route.schema == schema]
