"""The venv Bling's processes run from during the benchmark: by default one made as
``scripts/serve.sh`` makes it (install_requires only), beside the one running the bench.

Why: the memory figures are about what an operator deploys. A development venv
also holds the test extras; import-linter brings ``rich``, which structlog
imports when it is there, adding 4.9 MB to every Bling process that a
deployment never has (bench/README.md, "What the imports cost"). The floor
runs from the same venv, so the latency ratio compares like with like.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "bench" / ".venv-serve"


def prepare(venv: Path) -> Path:
    """Create or update ``venv`` with scripts/_venv.sh, as serve.sh would (no extras); return its python.

    The venv running this script is used as it is (``--bling-venv .venv`` measures a development venv).
    """
    venv = venv.resolve()
    if Path(sys.prefix).resolve() == venv:
        return Path(sys.executable)
    env = {**os.environ, "BLING_VENV": str(venv)}
    done = subprocess.run(["bash", "-c", 'source "$0/scripts/_venv.sh" ""', str(ROOT)], env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"bench: could not install Bling into {venv} (scripts/_venv.sh):\n{done.stderr[-3000:]}")
    return venv / "bin" / "python"


def describe(python: Path) -> str:
    """What the venv holds, for results.md: serve-only, or with the test extras."""
    extras = subprocess.run([str(python), "-c", "import importlib.util as u; print(bool(u.find_spec('pytest')))"],
                            capture_output=True, text=True, timeout=60).stdout.strip() == "True"
    where = os.path.relpath(python.parent.parent, ROOT)
    return (f"`{where}`, " + ("with the test extras (a development venv)" if extras
                              else "install_requires only, as `scripts/serve.sh` installs it"))
