"""A serve-only install (scripts/serve.sh: no test extras) has every module a web process imports.

The test venv holds the test and docs extras too, so a module Bling needs but does not declare
is found there anyway and every other test passes. Planted bug it catches (it happened):
gunicorn's gevent worker imports ``packaging``, which gunicorn does not declare, so a fresh
``bash scripts/serve.sh`` died at start-up while the whole suite was green.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys

from support import HOTLINE, MAILBOX_ID, make_env

#: Imported only when installed, to render prettier output (structlog's dev console: rich, pygments,
#: colorama): the test extras bring them, a production install works without them.
OPTIONAL = {"rich", "pygments", "colorama"}


def _closure(name: str, seen: set[str] | None = None) -> set[str]:
    """The distributions ``name`` needs, without extras, recursively (normalised names)."""
    seen = set() if seen is None else seen
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return seen
    seen.add(key)
    try:
        requirements = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return seen
    for requirement in requirements:
        marker = requirement.split(";", 1)[1] if ";" in requirement else ""
        if "extra ==" in marker or "extra==" in marker:
            continue
        if marker and not _marker_holds(marker):
            continue
        _closure(re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0), seen)
    return seen


def _marker_holds(marker: str) -> bool:
    from packaging.markers import Marker

    return Marker(marker).evaluate()


def test_every_module_a_web_process_imports_is_declared(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("BLING_", "TWILIO_", "HELPSCOUT_"))},
           **make_env(f"sqlite:///{tmp_path / 'web.db'}", BLING_MAILBOXES=f"twilio:{HOTLINE}:{MAILBOX_ID}")}
    script = ("import json, sys\nimport bling.edge.wsgi, bling.edge.web_worker, bling.cli.main\n"
              "bling.edge.wsgi.application_factory()\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in list(sys.modules)})))")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    owners = importlib.metadata.packages_distributions()
    declared = _closure("bling")
    undeclared = {}
    for module in modules:
        if module in sys.stdlib_module_names or module.startswith("_") or module in ("bling", "bling_local_plugins") \
                or module in OPTIONAL:
            continue
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(module, [])}
        if dists and not dists & declared:
            undeclared[module] = sorted(dists)
    assert not undeclared, f"imported by a web process but not in setup.cfg's install_requires (closure): {undeclared}"
