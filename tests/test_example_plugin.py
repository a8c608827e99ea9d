"""The example third-party plugin, installed like any package, is discovered, wired and run.

examples/bling-keyword-tagger is pip-installed into a throwaway virtualenv
(offline: no build isolation, no index). The venv sees Bling and its
dependencies through a .pth file naming this interpreter's site-packages,
so nothing is downloaded or copied. In it, ``bling plugins`` must list the
package with its version and hooks, ``bling routes`` must show it in the
chain a routes.toml gives it, and the package's own tests (which text the
hotline and check the Help Scout tags, from its cassettes) must pass.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bling.config.settings import ROOT

EXAMPLE = ROOT / "examples" / "bling-keyword-tagger"
FEATURE = ROOT / "examples" / "bling-daily-tally"  # a feature: its own table, option, setting, task, command
ROUTES = '''
[[route]]
path = "/bling/twilio_sms"
verify = "twilio"
schema = "twilio_sms"
chain = ["inbound_sms", "keyword_tagger", "autoreply"]

[route.options.keyword_tagger]
keywords = { ballot = "voting" }
'''


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with the example installed; returns its python."""
    where = tmp_path_factory.mktemp("plugin-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=60)
    python = where / "bin" / "python"
    purelib = subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                      text=True).strip()
    parents = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(purelib, "bling_host.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in dict.fromkeys(parents)) + "\n")
    for example in (EXAMPLE, FEATURE):
        source = tmp_path_factory.mktemp("plugin-src") / example.name  # setuptools builds in the tree: not in ours
        shutil.copytree(example, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                                    "--no-deps", "--no-build-isolation", "--no-index", str(source)],
                                   capture_output=True, text=True, timeout=300)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def run_in(venv: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLING_")}
    env.update(BLING_ROUTES=str(routes), BLING_PLUGINS_DIR=str(ROOT / "plugins"))
    return subprocess.run([str(venv), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_bling_plugins_lists_the_package_with_version_and_hooks(venv, tmp_path):
    result = run_in(venv, tmp_path, "-m", "bling.cli", "plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("keyword_tagger "))
    assert "package: bling-keyword-tagger 0.1.0" in lines[at]
    assert lines[at + 1].split("hooks:")[1].strip() == "handle_event"
    assert any(line.startswith("inbound_sms ") and "local: " in line for line in lines)  # sources side by side
    assert any(line.startswith("bling.payloads ") and "built-in" in line for line in lines)


def test_routes_toml_wires_the_package_into_a_chain(venv, tmp_path):
    result = run_in(venv, tmp_path, "-m", "bling.cli", "routes")
    assert result.returncode == 0, result.stderr
    assert "inbound_sms → keyword_tagger → autoreply" in result.stdout


def test_the_package_runs_in_the_chain_by_its_own_tests(venv, tmp_path):
    result = run_in(venv, tmp_path, "-m", "pytest", "-q", str(EXAMPLE))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "13 passed" in result.stdout.splitlines()[-1]


def test_a_feature_package_adds_its_command_and_runs_by_its_own_tests(venv, tmp_path):
    """examples/bling-daily-tally: table, per-mailbox option, setting, periodic task and command, host untouched."""
    plugins = run_in(venv, tmp_path, "-m", "bling.cli", "plugins")
    assert plugins.returncode == 0, plugins.stderr
    lines = plugins.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("daily_tally "))
    assert "package: bling-daily-tally 0.1.0" in lines[at]
    assert lines[at + 1].split("hooks:")[1].strip() == ("bling_commands, bling_mailbox_options, bling_periodic_tasks, "
                                                        "bling_settings, bling_tables, handle_event")
    helped = run_in(venv, tmp_path, "-m", "bling.cli", "tally", "--help")
    assert helped.returncode == 0 and "How many texts each hotline got, per day." in helped.stdout
    result = run_in(venv, tmp_path, "-m", "pytest", "-q", str(FEATURE))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "6 passed" in result.stdout.splitlines()[-1]


def test_the_package_is_not_importable_here():
    """Bling's own environment does not have it: only the venv proves discovery."""
    import importlib.metadata

    assert "keyword_tagger" not in [ep.name for ep in importlib.metadata.entry_points(group="bling")]
