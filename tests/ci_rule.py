"""One rule for the services some tests need (PostgreSQL, Chromium): CI fails, a local run skips and says so.

CI means the ``CI`` variable is set to anything but ``""``, ``0``, ``false``
or ``no`` (any case); .ci/run sets ``CI=true`` itself. A pytest plugin
(loaded by tests/conftest.py): the terminal summary lists what a local run
skipped, so a green local run never passes for a complete one.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

NOT_CI = frozenset({"", "0", "false", "no"})

#: service -> how many tests this run skipped for want of it
_skipped: Counter[str] = Counter()


def in_ci(environ=None) -> bool:
    """Whether this run is CI (``CI`` set to anything but "", 0, false, no)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in NOT_CI


def require(available: bool, service: str, detail: str) -> None:
    """Go on when ``service`` is there; otherwise fail under CI, skip (and count it) locally."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{service} is missing ({detail}); CI={os.environ.get('CI')} must run this test", pytrace=False)
    _skipped[service] += 1
    pytest.skip(f"{service} is missing ({detail}); skipped because this is not CI")


def summary_lines(skipped: Counter[str]) -> list[str]:
    """The terminal summary's lines for services a local run went without."""
    return [f"{service}: {count} test(s) skipped (CI=true would fail them)" for service, count in sorted(skipped.items())]


def pytest_terminal_summary(terminalreporter) -> None:
    lines = summary_lines(_skipped)
    if lines:
        terminalreporter.section("local run: not everything ran", sep="=", yellow=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line)
