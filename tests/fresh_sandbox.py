"""What `bash scripts/serve.sh` does on a fresh machine, in a temp dir: Bling with no configuration at all.

The process is `bling serve --sandbox-if-unconfigured` (serve.sh's command)
started in an empty folder with every Bling, Twilio and Help Scout variable
removed from the environment, so the sandbox it chooses is brand new
(its store is created in that folder). Its output is kept for the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from types import SimpleNamespace

import requests

ACCOUNT_PREFIXES = ("BLING_", "TWILIO_", "HELPSCOUT_", "MOBILECOMMONS_", "BLACKHOLE_", "PROMETHEUS_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unconfigured_environ(folder) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ACCOUNT_PREFIXES)}
    env["BLING_SANDBOX_ENV_FILE"] = str(folder / ".bling-sandbox.env")  # as serve.sh sets it
    return env


@contextmanager
def fresh_serve(folder, timeout: float = 60.0):
    """Run serve.sh's command in ``folder``; yield once the sandbox is provisioned."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    output = folder / "serve.log"
    with open(output, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bling.cli", "serve", "--sandbox-if-unconfigured", "--bind",
                                 f"127.0.0.1:{port}", "--workers", "1"], cwd=folder, env=unconfigured_environ(folder),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + timeout
        while not _provisioned(url):
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"the sandbox did not come up:\n{output.read_text()[-3000:]}")
            time.sleep(0.3)
        yield SimpleNamespace(url=url, log=output, folder=folder)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _provisioned(url: str) -> bool:
    try:
        state = requests.get(f"{url}/sandbox/state", timeout=2).json()
    except (requests.RequestException, ValueError):
        return False
    # The Help Scout webhook is provisioned last, after the numbers and the WhatsApp senders.
    sms = [h for h in state["hotlines"] if h.get("channel", "sms") == "sms"]
    return all(h["config"].get("sms_url") for h in sms) and bool(state["webhooks"])
