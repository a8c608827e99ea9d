"""The benchmark measures Bling as it is deployed: from a serve-only venv (bench/serve_venv.py).

A development venv holds the test extras (import-linter brings rich, which structlog imports):
4.9 MB in every process that a deployment never has, so the memory figures would be the dev
machine's, not the operator's. These tests pin how the bench picks and describes the venv.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bling.config.settings import ROOT


def _serve_venv():
    spec = importlib.util.spec_from_file_location("serve_venv", ROOT / "bench" / "serve_venv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_venv_is_a_serve_only_one_beside_the_bench():
    serve_venv = _serve_venv()
    assert serve_venv.DEFAULT == ROOT / "bench" / ".venv-serve"
    assert "bench/.venv-serve/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_running_venv_is_used_as_it_is_and_said_to_hold_the_test_extras():
    serve_venv = _serve_venv()
    python = serve_venv.prepare(Path(sys.prefix))  # no install: the venv running the tests
    assert python == Path(sys.executable)
    assert "with the test extras" in serve_venv.describe(python)
