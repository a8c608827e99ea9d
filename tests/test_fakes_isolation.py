"""The production app never imports the fakes (bling_fakes/): they serve the sandbox, the benchmark and tests only.

Bug it catches: the app factory mounting the sandbox (``from bling_fakes.sandbox
import mount`` in bling/edge/app.py) or the settings calling the sandbox's
``sandbox_environ`` (bling/config/settings.py), which put the fake Twilio and
Help Scout, and their SQL tables, into every production web process. Each
check runs in a fresh interpreter, so nothing a test imported earlier hides it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import make_env

PRODUCTION = """
import json, sys
import bling.edge.app, bling.edge.wsgi, bling.config.settings
from bling.config.settings import load_settings
from bling.edge.app import create_app
from bling.services import build_services
services = build_services(load_settings())
app = create_app(services)
services.store.close()
print(json.dumps({"built": type(app).__name__, "modules": sorted(m for m in sys.modules if m.split(".")[0] == "bling_fakes")}))
"""

COMMAND_LINE = """
import json, sys
from bling.cli.main import main
print(json.dumps({"commands": sorted(main.list_commands(None)),
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] == "bling_fakes")}))
"""


def _run(code: str, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLING_", "TWILIO_", "HELPSCOUT_"))}
    env.update(make_env(f"sqlite:///{tmp_path / 'bling.db'}"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_production_app_loads_no_fake(tmp_path):
    found = _run(PRODUCTION, tmp_path)
    assert found["built"] == "App"
    assert found["modules"] == []


def test_the_command_line_loads_the_fakes_only_when_a_sandbox_command_runs(tmp_path):
    """`bling serve` forks the web processes from the CLI's process: importing it must not load the fakes either."""
    found = _run(COMMAND_LINE, tmp_path)
    assert "simulate" in found["commands"] and "serve" in found["commands"]
    assert found["modules"] == []
