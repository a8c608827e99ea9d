"""Meta-tests: the README's commands are true, and docs/ documents every hook, setting, command and plugin.

The README is the front door; the reference is the MkDocs site in docs/
(``mkdocs build --strict``, run by a test below, catches broken links). These tests
tie the reference to the code, so a new hook, setting, route key, command
option or plugin fails here until it is documented.
"""

from __future__ import annotations

import inspect
import pathlib
import re

import click
import pytest
import yaml

from bling import hookspecs

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in (ROOT / "docs").glob("*.md")}
ALL_DOCS = "\n".join(DOCS.values())
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "bling_spec")]
from support import local_plugin_files  # noqa: E402

PLUGIN_FILES = local_plugin_files()
PLUGINS = sorted(PLUGIN_FILES)
TESTS_TEXT = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))


def _commands(group: click.Group, prefix: str = "bling"):
    """Every runnable command under ``group`` as (``"bling jobs list"``, command)."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


def _cli_commands():
    from bling.cli.main import main

    return dict(_commands(main))


def test_hooks_are_found():
    assert {"handle_event", "triage_event", "transport_send_sms"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_section_headed_by_its_signature(name):
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    heading = re.compile(rf"^#+ `{re.escape(name)}\({re.escape(params)}\)`$", re.MULTILINE)
    assert heading.search(DOCS["hooks.md"]), f"docs/hooks.md needs a section '## `{name}({params})`'"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_docstring(name):
    assert (getattr(hookspecs, name).__doc__ or "").strip()


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name):
    assert re.search(rf"def test_hook_{name}\b", TESTS_TEXT), f"add test_hook_{name}"


@pytest.mark.parametrize("name", PLUGINS)
def test_every_plugin_has_a_docstring_and_docs(name):
    path = PLUGIN_FILES[name]
    where = path.relative_to(ROOT)
    assert path.read_text().lstrip().startswith('"""'), f"{where} needs a docstring saying what it does"
    assert f"`{name}`" in ALL_DOCS or f"`{where}`" in ALL_DOCS, f"docs/ never names the plugin {name}"


@pytest.mark.parametrize("name", PLUGINS)
def test_every_plugin_has_a_test_module_of_its_own(name):
    """tests/test_<plugin>.py must exist and hold tests; tests/plugin_hooks.py then fails it unless
    it drives every hook the plugin implements.

    Planted bug: a plugin tested only by a mention elsewhere (``name in TESTS_TEXT`` passed for six
    dialer plugins whose tests all lived in test_dialer_legs.py).
    """
    module = ROOT / "tests" / f"test_{name}.py"
    assert module.exists(), f"add tests/test_{name}.py: it must drive every hook of plugins/{name}.py"
    assert re.search(r"^def test_", module.read_text(), re.M), f"tests/test_{name}.py has no tests"


@pytest.mark.parametrize("variable", ["HELPSCOUT_API_CLIENT_ID", "HELPSCOUT_API_CLIENT_SECRET", "HELPSCOUT_WEBHOOK_SECRET",
                                      "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "BLACKHOLE_DOMAIN", "BLING_MAILBOXES"])
def test_original_variables_are_documented(variable):
    assert f"| `{variable}` |" in DOCS["configuration.md"]


def test_every_optional_setting_is_documented():
    from bling.config.settings import OPTIONAL

    for name in OPTIONAL:
        assert f"| `{name}` |" in DOCS["configuration.md"], name


def test_every_mailbox_option_is_documented():
    """The host's options and every built-in plugin's (``bling_mailbox_options``)."""
    from bling.config.mailbox_options import option_keys
    from bling.config.settings import option_schemas
    from bling.routing.plugin_loader import load_plugins

    keys = option_keys(option_schemas(load_plugins(str(ROOT / "plugins"), entry_points=False)[0]))
    assert {"thread_cap", "auto_reply", "ring"} <= set(keys)  # host, sms and calls
    for key in keys:
        assert f"| `{key}` |" in DOCS["configuration.md"], key


def test_every_plugin_setting_is_documented():
    """Settings the built-in plugins declare (``bling_settings``) are in the configuration table too."""
    from bling.config.settings import declared_settings
    from bling.routing.plugin_loader import load_plugins

    declared = declared_settings(load_plugins(str(ROOT / "plugins"), entry_points=False)[0])
    assert {"BLING_SECRET_KEY", "MOBILECOMMONS_USERNAME"} <= {s.name for s in declared}
    for setting in declared:
        assert f"| `{setting.name}` |" in DOCS["configuration.md"], setting.name


def test_every_route_key_is_documented():
    from bling.routing.routes import _RouteSchema

    for key in _RouteSchema().fields:
        shown = "[route.options.<plugin>]" if key == "options" else key
        assert f"| `{shown}` |" in DOCS["routes.md"], f"docs/routes.md: the route key {key}"


def test_every_built_in_host_module_is_named():
    from bling.routing.plugin_loader import BUILTIN_MODULES

    row = next(line for line in DOCS["plugins.md"].splitlines() if line.startswith("| built-in |"))
    for module in BUILTIN_MODULES:
        assert f"`{module}`" in row, module
    count = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")[len(BUILTIN_MODULES) - 1]
    assert f"the {count} host modules" in row


def test_every_command_is_in_the_command_table():
    table = DOCS["operating.md"].split("## Commands", 1)[1].split("\n## ", 1)[0]
    for path, command in _cli_commands().items():
        assert f"| `{path}" in table, f"docs/operating.md's command table lacks `{path}`"
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    assert option in ALL_DOCS, f"{path} {option} is not documented"


def test_every_metric_is_documented():
    from bling.ops import metrics

    names = set(re.findall(r'"(bling_[a-z_]+)"', inspect.getsource(metrics)))
    assert names
    for name in names:
        assert f"`{name}`" in DOCS["operating.md"], name


def test_every_page_is_in_the_site_and_every_readme_link_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = set(re.findall(r"[\w-]+\.md", yaml.safe_dump(config["nav"])))
    assert listed == set(DOCS), f"pages not in mkdocs.yml's nav: {set(DOCS) - listed}; missing pages: {listed - set(DOCS)}"
    for target, anchor in re.findall(r"\]\((docs/[^)#]+)(?:#([^)]+))?\)", README):
        assert (ROOT / target).exists(), target
        if anchor:  # GitHub and MkDocs slug plain headings alike: keep README anchors to plain ones
            headings = re.findall(r"^#+ (.+)$", (ROOT / target).read_text(), re.MULTILINE)
            slugs = {re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-") for heading in headings}
            assert anchor in slugs, f"README links to {target}#{anchor}, which has no such heading"


def test_readme_commands_exist_and_ci_builds_the_docs():
    for script in ("scripts/serve.sh", "scripts/test.sh"):
        assert f"bash {script}" in README and (ROOT / script).exists()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci, ".ci/run must call the README's test command"
    assert '"[test,docs]"' in (ROOT / "scripts" / "test.sh").read_text(), "the test command installs mkdocs"
    assert "def test_the_site_builds_without_a_broken_link" in (ROOT / "tests" / "test_docs.py").read_text()
    assert len(README.splitlines()) < 150, "the README is the front door: put reference in docs/"


def test_the_site_builds_without_a_broken_link(tmp_path):
    """mkdocs.yml is strict: a broken link or anchor, or a page missing from nav, fails the build."""
    import os
    import subprocess
    import sys

    mkdocs = pathlib.Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        if os.environ.get("CI"):
            pytest.fail("CI installs the docs extra (.ci/run): mkdocs is missing")
        pytest.skip("the docs extra is not installed: pip install -e '.[docs]'")
    result = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").exists()
