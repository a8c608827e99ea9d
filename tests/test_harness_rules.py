"""Rules for the test suite itself: the harness plugins are loaded, and no test reads what cannot fail.

See tests/README.md. The plugins' own behaviour is tested in test_cassette_guard.py, test_ci_rule.py
and here (plugin_hooks).
"""

from __future__ import annotations

import ast
import pathlib
import re
import sys
import textwrap

import pytest

import conftest
from plugin_hooks import hook_implementations
from support import plugin_module

TESTS = pathlib.Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))
#: Test helpers and modules, this one aside (it names what it looks for).
OTHERS = sorted(p for p in TESTS.glob("*.py") if p.name != pathlib.Path(__file__).name)


def test_the_harness_plugins_are_loaded():
    """Planted bug: a harness plugin dropped from conftest.py (its rules silently stop)."""
    assert {"cassette_guard", "ci_rule", "plugin_hooks"} <= set(conftest.pytest_plugins)


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda p: p.name)
def test_no_test_reads_the_cassette_as_if_it_were_what_was_sent(path):
    """``vcr.requests`` is the cassette's content: asserting on it passes whatever Bling sent.

    Planted bug: ``len([r for r in vcr.requests if ...]) == 1`` ("once"), true even when Bling sent it twice.
    Use ``vcr.played_requests`` (what was sent, in order) or play counts (tests/sms_helpers.py).
    """
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "requests" \
                and isinstance(node.value, ast.Name) and node.value.id == "vcr":
            pytest.fail(f"{path.name}:{node.lineno} reads vcr.requests; use vcr.played_requests or play counts")


def test_every_cassette_matches_on_the_body():
    """A write is only checked if its body is compared (the strict form matcher of cassette_guard).

    Planted bug: a module's own vcr_config or ``match_on`` leaving ``body`` out (a Twilio write sent with
    any form would play).
    """
    matched = 0
    for path in OTHERS:
        text = path.read_text()
        assert "def vcr_config" not in text or path.name in ("conftest.py", "test_cassette_guard.py"), \
            f"{path.name}: keep the one vcr_config in conftest.py"
        for listed in re.findall(r"match_on\W+\[([^\]]*)\]", text):
            assert re.search(r"\b(raw_)?body\b", listed), f"{path.name}: match_on without body: [{listed}]"
            matched += 1
    assert matched >= 2  # conftest.vcr_config's and test_twilio_api's exact_body at least


def test_bling_config_is_read_in_one_place():
    """Planted bug: a module's own ``env`` fixture reading the ``bling_config`` marker again (four copies were)."""
    readers = [p.name for p in OTHERS if 'get_closest_marker("bling_config")' in p.read_text()]
    assert readers == ["support.py"]


def test_the_browser_is_found_in_one_place():
    """Planted bug: a second chromium check (it had drifted: it failed under CI for only three CI values)."""
    finders = sorted(p.name for p in OTHERS if "/usr/bin/chromium" in p.read_text())
    assert finders == ["browser.py"]


# -- plugin_hooks ---------------------------------------------------------------------


def test_hook_implementations_are_found():
    assert hook_implementations(plugin_module("agent_reply")) == ["handle_event", "handle_failure", "triage_event"]
    assert hook_implementations(plugin_module("opt_out")) == ["handle_event", "handle_failure", "transport_send_sms"]


@pytest.fixture
def pytester(pytester, monkeypatch):
    """An inner run whose test_dialer_status.py is its own, not this suite's (same module name)."""
    monkeypatch.delitem(sys.modules, "test_dialer_status", raising=False)
    pytester.makeconftest('pytest_plugins = ["plugin_hooks"]\n')
    return pytester


def test_a_plugin_module_that_never_drives_a_hook_fails(pytester):
    """Planted bug: plugin_hooks not checking (tests/test_dialer_status.py passed without calling the plugin)."""
    pytester.makepyfile(test_dialer_status=textwrap.dedent("""
        def test_something_else():
            assert 1 + 1 == 2
    """))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_dialer_status.py never drove handle_event of plugins/dialer/dialer_status.py*"])


def test_a_plugin_module_that_drives_its_hooks_passes(pytester):
    pytester.makepyfile(test_dialer_status=textwrap.dedent("""
        from support import plugin_module

        def test_the_hook_runs():
            plugin = plugin_module("dialer_status")
            try:
                plugin.handle_event(None, {})
            except AttributeError:  # no context: enough to know it was called
                pass
    """))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_single_test_of_a_plugin_module_is_not_judged(pytester):
    pytester.makepyfile(test_dialer_status=textwrap.dedent("""
        def test_one():
            assert True

        def test_two():
            assert True
    """))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_one")
    result.assert_outcomes(passed=1, deselected=1)
