"""The newcomer's documents agree with the code: commands, route keys, host modules, chain examples."""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest

from bling.cli.main import main
from bling.routing.plugin_loader import BUILTIN_MODULES
from bling.routing.routes import _RouteSchema

ROOT = pathlib.Path(__file__).resolve().parent.parent
GETTING_STARTED = (ROOT / "docs" / "getting-started.md").read_text()
PLUGINS_DOC = (ROOT / "docs" / "plugins.md").read_text()
EXAMPLE = ROOT / "examples" / "bling-keyword-tagger"
SMS_CHAIN_NEEDS = ("customer_match", "inbound_sms", "opt_out", "after_hours", "autoreply")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_getting_started_guide(command):
    assert f"bling {command}" in GETTING_STARTED


@pytest.mark.parametrize("key", sorted(_RouteSchema().fields))
def test_every_route_key_is_explained_in_routes_toml(key):
    header = (ROOT / "routes.toml").read_text().split("\n[[route]]", 1)[0]
    assert re.search(rf"^#\s+{key}\b", header, re.M), f"routes.toml's header does not explain {key!r}"


@pytest.mark.parametrize("module", BUILTIN_MODULES)
def test_every_built_in_host_module_is_named_in_the_plugin_guide(module):
    assert f"`{module}`" in PLUGINS_DOC


@pytest.mark.parametrize("where", ["docs/plugins.md", "examples/bling-keyword-tagger/README.md",
                                   "examples/bling-keyword-tagger/bling_keyword_tagger.py"])
def test_sms_chain_examples_keep_stop_handling_and_after_hours(where):
    chains = re.findall(r"chain = \[([^\]]*inbound_sms[^\]]*)\]", (ROOT / where).read_text())
    assert chains, f"{where} shows no SMS chain"
    for chain in chains:
        names = re.findall(r'"(\w+)"', chain)
        assert [n for n in names if n in SMS_CHAIN_NEEDS] == list(SMS_CHAIN_NEEDS), f"{where}: {names}"


@pytest.mark.parametrize("built", ["build/lib/bling_keyword_tagger.py", "bling_keyword_tagger.egg-info/PKG-INFO"])
def test_installing_the_example_leaves_nothing_untracked(built):
    ignored = subprocess.run(["git", "check-ignore", "-q", str(EXAMPLE / built)], cwd=ROOT)
    assert ignored.returncode == 0, f"pip install ./examples/bling-keyword-tagger leaves {built} untracked"
