"""The layers of docs/plugins.md hold: import-linter's contracts in setup.cfg are kept, and would catch a breach."""

from __future__ import annotations

import os
import subprocess
import sys

from bling.config.settings import ROOT

LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command(['--no-cache', '--config', sys.argv[1]]))"]


def lint(*extra_paths: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*extra_paths, str(ROOT)]))
    return subprocess.run([*LINT, str(ROOT / "setup.cfg")], capture_output=True, text=True, env=env, cwd=ROOT)


def test_every_contract_is_kept():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_a_plugin_importing_the_edge_breaks_a_contract(tmp_path):
    """Planted bug: a plugin module that reaches into the edge (the contracts are read, not ignored)."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "nosy.py").write_text("from bling.edge.app import create_app\n")
    result = lint(str(tmp_path))
    assert result.returncode == 1
    assert "plugins.nosy -> bling.edge.app" in result.stdout
