"""CI cannot skip what it promises: one rule for PostgreSQL and Chromium, and .ci/run enforces it.

.ci/run is run for real from a copy of the repository's .ci/run, with stand-ins
(on PATH) for pg_isready, pg_ctlcluster, ls, apt-get and sleep, and a
scripts/test.sh stand-in that only reports it ran and with which CI value.
"""

from __future__ import annotations

import pathlib
import shutil
import stat
import subprocess

import pytest

import ci_rule

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no", "NO"])
def test_ci_zero_false_or_no_is_a_local_run(value):
    """Planted bug: ``bool(os.environ.get("CI"))`` (CI=0 or CI=false counted as CI)."""
    assert not ci_rule.in_ci({"CI": value})
    assert not ci_rule.in_ci({})


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "woodpecker"])
def test_ci_set_to_anything_else_is_ci(value):
    """Planted bug: only three spellings counted (a CI setting CI=woodpecker would skip)."""
    assert ci_rule.in_ci({"CI": value})


def test_a_missing_service_fails_under_ci(monkeypatch):
    """Planted bug: the browser check skipping under CI (it only failed for three CI values)."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is missing .*CI=true must run this test"):
        ci_rule.require(False, "PostgreSQL", "not reachable at postgresql://127.0.0.1:5432/test")


def test_a_missing_service_is_skipped_and_counted_on_a_local_run(monkeypatch):
    """Planted bug: the PostgreSQL check failing for CI=0 (any non-empty CI)."""
    monkeypatch.setenv("CI", "0")
    monkeypatch.setattr(ci_rule, "_skipped", ci_rule.Counter())
    with pytest.raises(pytest.skip.Exception, match="Chromium is missing"):
        ci_rule.require(False, "Chromium", "not installed: apt-get install chromium")
    assert ci_rule._skipped == {"Chromium": 1}


def test_an_available_service_neither_fails_nor_skips(monkeypatch):
    monkeypatch.setenv("CI", "true")
    ci_rule.require(True, "PostgreSQL", "reachable")


def test_the_summary_says_what_a_local_run_skipped():
    """Planted bug: a local run skipping PostgreSQL tests silently (no summary line)."""
    lines = ci_rule.summary_lines(ci_rule.Counter({"PostgreSQL": 800, "Chromium": 2}))
    assert lines == ["Chromium: 2 test(s) skipped (CI=true would fail them)",
                     "PostgreSQL: 800 test(s) skipped (CI=true would fail them)"]


def test_store_and_browser_checks_both_go_through_the_rule():
    """Planted bug: a second, different CI check written again in conftest.py or browser.py."""
    for name in ("conftest.py", "browser.py", "test_dialer_browser.py"):
        source = (ROOT / "tests" / name).read_text()
        assert 'environ.get("CI"' not in source and "environ['CI']" not in source, name
    assert "require(postgres_available()" in (ROOT / "tests" / "conftest.py").read_text()
    assert "require(os.path.exists(CHROMIUM)" in (ROOT / "tests" / "browser.py").read_text()


# -- .ci/run ------------------------------------------------------------------------


def _executable(path: pathlib.Path, text: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def ci_tree(tmp_path):
    """A copy of .ci/run, a stand-in suite, and a PATH of stand-ins (all services up by default)."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "test.sh").write_text('echo "suite ran with CI=$CI $*"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "pg_isready", "exit 0\n")
    _executable(bin_dir / "pg_ctlcluster", 'echo "pg_ctlcluster $*" >> "$LOG"\n')
    _executable(bin_dir / "ls", 'echo 16\n')
    _executable(bin_dir / "apt-get", 'echo "apt-get $*" >> "$LOG"\n')
    _executable(bin_dir / "sleep", "exit 0\n")
    chromium = bin_dir / "chromium"
    _executable(chromium, "exit 0\n")
    return tmp_path


def run_ci(tree: pathlib.Path, **env: str) -> subprocess.CompletedProcess:
    environ = {"PATH": f"{tree / 'bin'}:/usr/bin:/bin", "LOG": str(tree / "log"), "CI": "0",
               "BLING_CHROMIUM": str(tree / "bin" / "chromium"), "PG_WAIT_SECONDS": "3", **env}
    return subprocess.run(["bash", str(tree / ".ci" / "run")], env=environ, capture_output=True, text=True,
                          timeout=60)


def test_ci_run_sets_ci_true_itself(ci_tree):
    """Planted bug: .ci/run never setting CI (the caller's CI=0 made it a local run that may skip)."""
    result = run_ci(ci_tree)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "suite ran with CI=true -q"


def test_ci_run_starts_postgresql_when_it_is_down(ci_tree):
    state = ci_tree / "started"
    _executable(ci_tree / "bin" / "pg_isready", f'[ -e "{state}" ]\n')
    _executable(ci_tree / "bin" / "pg_ctlcluster", f'echo "pg_ctlcluster $*" >> "$LOG"; touch "{state}"\n')
    result = run_ci(ci_tree)
    assert result.returncode == 0, result.stderr
    assert (ci_tree / "log").read_text() == "pg_ctlcluster --skip-systemctl-redirect 16 main start\n"
    assert "suite ran" in result.stdout


def test_ci_run_fails_loudly_when_postgresql_will_not_start(ci_tree):
    """Planted bug: ``pg_ctlcluster … start || true`` (the suite ran without PostgreSQL)."""
    _executable(ci_tree / "bin" / "pg_isready", "exit 2\n")
    _executable(ci_tree / "bin" / "pg_ctlcluster", "exit 1\n")
    result = run_ci(ci_tree)
    assert result.returncode != 0
    assert "suite ran" not in result.stdout
    assert "PostgreSQL 16/main would not start" in result.stderr


def test_ci_run_fails_loudly_when_postgresql_never_answers(ci_tree):
    """Planted bug: the wait loop falling through to the suite after its 30 tries."""
    _executable(ci_tree / "bin" / "pg_isready", "exit 2\n")
    result = run_ci(ci_tree)
    assert result.returncode != 0 and "suite ran" not in result.stdout
    assert "PostgreSQL does not answer at 127.0.0.1:5432 3s after starting it" in result.stderr


def test_ci_run_installs_chromium_when_missing(ci_tree):
    missing = ci_tree / "bin" / "chromium-to-be"
    _executable(ci_tree / "bin" / "apt-get", f'echo "apt-get $*" >> "$LOG"; [ "$1" = install ] && '
                                             f'cp "{ci_tree / "bin" / "chromium"}" "{missing}"; exit 0\n')
    result = run_ci(ci_tree, BLING_CHROMIUM=str(missing))
    assert result.returncode == 0, result.stderr
    assert "apt-get install -y -qq chromium" in (ci_tree / "log").read_text()


def test_ci_run_fails_loudly_when_chromium_cannot_be_installed(ci_tree):
    """Planted bug: ``command -v chromium || (apt-get … )`` ending well with no browser installed."""
    result = run_ci(ci_tree, BLING_CHROMIUM=str(ci_tree / "no-chromium"))
    assert result.returncode != 0 and "suite ran" not in result.stdout
    assert f"{ci_tree / 'no-chromium'} is still missing after installing chromium" in result.stderr


def test_ci_run_fails_loudly_when_apt_get_fails(ci_tree):
    _executable(ci_tree / "bin" / "apt-get", "exit 100\n")
    result = run_ci(ci_tree, BLING_CHROMIUM=str(ci_tree / "no-chromium"))
    assert result.returncode != 0 and "suite ran" not in result.stdout
    assert "could not install chromium with apt-get" in result.stderr


def test_ci_run_has_no_swallowed_failures():
    """Planted bug: any ``|| true`` in .ci/run."""
    assert "|| true" not in (ROOT / ".ci" / "run").read_text()

