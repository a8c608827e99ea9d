"""Meta-tests: every hook documented and tested, every plugin documented and tested."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

from bling import hookspecs

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "bling_spec")]
PLUGINS = sorted(p.stem for p in (ROOT / "plugins").glob("*.py") if not p.stem.startswith("_"))
TESTS_TEXT = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))


def test_hooks_are_found():
    assert {"handle_event", "triage_event", "transport_send_sms"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented_with_its_signature(name):
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"#### `{name}({params})`" in README


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_docstring(name):
    assert (getattr(hookspecs, name).__doc__ or "").strip()


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name):
    assert re.search(rf"def test_hook_{name}\b", TESTS_TEXT), f"add test_hook_{name}"


@pytest.mark.parametrize("name", PLUGINS)
def test_every_plugin_has_a_docstring(name):
    source = (ROOT / "plugins" / f"{name}.py").read_text()
    assert source.lstrip().startswith('"""'), f"plugins/{name}.py needs a docstring saying what it does"


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
    assert f"`{variable}`" in README


def test_every_optional_setting_is_documented():
    from bling.settings import OPTIONAL

    for name in OPTIONAL:
        assert f"`{name}`" in README, name


def test_every_mailbox_option_is_documented():
    from dataclasses import fields

    from bling.mailbox_config import MailboxOptions

    for field in fields(MailboxOptions):
        assert f"`{field.name}`" in README, field.name


def test_readme_commands_exist():
    for script in ("scripts/serve.sh", "scripts/test.sh"):
        assert f"bash {script}" in README and (ROOT / script).exists()
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
