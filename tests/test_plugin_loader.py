"""Plugins: found in plugins/ and entry points, chains run in routes.toml order."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest

from bling.errors import ConfigError
from bling.hookspecs import hookimpl
from bling.routing.plugin_loader import chain_manager, implemented_hooks, load_plugins
from bling.config.settings import ROOT


def make_plugin(tag):
    class Plugin:
        @hookimpl
        def handle_event(self, context, event):
            context.state.setdefault("ran", []).append(tag)
            return tag

    return Plugin()


@pytest.mark.parametrize("order", [["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]])
def test_chain_runs_in_listed_order(order):
    pm = chain_manager([(name, make_plugin(name)) for name in order])
    context = SimpleNamespace(state={})
    results = pm.hook.handle_event(context=context, event={})
    assert context.state["ran"] == order and results == order


def test_builtin_and_local_plugins_are_loaded():
    pm, infos = load_plugins(str(ROOT / "plugins"), entry_points=False)
    assert infos["bling.payloads"].source == "built-in"
    assert infos["inbound_sms"].source.startswith("local: ")
    assert implemented_hooks(pm, infos["inbound_sms"].module) == ["handle_event", "handle_failure", "triage_event"]


def test_local_plugin_is_imported_once(tmp_path):
    (tmp_path / "shout.py").write_text(textwrap.dedent('''
        """Test plugin."""
        from bling.hookspecs import hookimpl
        LOADS = []
        LOADS.append(1)

        @hookimpl
        def handle_event(context, event):
            return "shout"
    '''))
    _, first = load_plugins(str(tmp_path), entry_points=False)
    _, second = load_plugins(str(tmp_path), entry_points=False)
    assert first["shout"].module is second["shout"].module
    assert first["shout"].module.LOADS == [1]


def test_broken_local_plugin_names_its_file(tmp_path):
    (tmp_path / "broken.py").write_text("import does_not_exist\n")
    with pytest.raises(ConfigError, match="broken.py: failed to import"):
        load_plugins(str(tmp_path), entry_points=False)


def test_plugin_with_unknown_hook_is_refused(tmp_path):
    (tmp_path / "typo.py").write_text("from bling.hookspecs import hookimpl\n@hookimpl\ndef handle_evnt(context, event):\n    pass\n")
    with pytest.raises(ConfigError, match="typo"):
        load_plugins(str(tmp_path), entry_points=False)


def test_underscore_files_are_not_plugins(tmp_path):
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('must not be imported')\n")
    _, infos = load_plugins(str(tmp_path), entry_points=False)
    assert "_helpers" not in infos


def test_entry_point_name_collision_fails_loudly(tmp_path, monkeypatch):
    import importlib.metadata

    (tmp_path / "inbound_sms.py").write_text('"""Local."""\n')

    class FakeEntryPoint:
        name = "inbound_sms"
        dist = SimpleNamespace(name="bling-evil", version="6.6.6")

        def load(self):
            return SimpleNamespace()

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [FakeEntryPoint()])
    with pytest.raises(ConfigError) as ex:
        load_plugins(str(tmp_path))
    assert "inbound_sms" in str(ex.value) and "bling-evil 6.6.6" in str(ex.value) and "local:" in str(ex.value)


def test_entry_point_allowlist(tmp_path, monkeypatch):
    import importlib.metadata

    class FakeEntryPoint:
        dist = SimpleNamespace(name="bling-extra", version="1.0")

        def __init__(self, name):
            self.name = name

        def load(self):
            return SimpleNamespace()

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [FakeEntryPoint("one"), FakeEntryPoint("two")])
    _, infos = load_plugins(str(tmp_path), allow=("two",))
    assert "two" in infos and "one" not in infos
    assert infos["two"].source == "package: bling-extra 1.0"


def test_two_packages_with_one_plugin_name_fail_loudly(tmp_path, monkeypatch):
    import importlib.metadata

    class FakeEntryPoint:
        name = "keyword_tagger"

        def __init__(self, dist, version):
            self.dist = SimpleNamespace(name=dist, version=version)

        def load(self):
            return SimpleNamespace()

    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: [FakeEntryPoint("bling-keyword-tagger", "0.1.0"), FakeEntryPoint("bling-tags", "2.0")])
    with pytest.raises(ConfigError) as ex:
        load_plugins(str(tmp_path))
    message = str(ex.value)
    assert "'keyword_tagger' is used twice" in message
    assert "package: bling-keyword-tagger 0.1.0" in message and "package: bling-tags 2.0" in message
