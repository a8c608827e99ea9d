"""Run the sandbox for a test: Bling with its stand-ins on a loopback port, and a worker thread.

Shared by tests/test_sandbox.py and the browser test. Bling is provisioned
against its stand-ins the way ``bling serve --sandbox`` does.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

from bling_fakes.sandbox.app import create_sandbox_app
from bling_fakes.sandbox.serve import provision_now
from bling_fakes.sandbox.twilio_api import finish_deliveries
from bling.services import build_services
from bling_fakes.sandbox.app import sandbox_settings
from bling.jobs.worker import drain
from live_server import LiveServer


@contextmanager
def running_sandbox(tmp_path, worker: bool = True):
    server = LiveServer()
    env = {"BLING_SANDBOX": "1", "BLING_STORE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}", "BLING_PUBLIC_URL": server.url}
    settings = sandbox_settings(env)
    services = build_services(settings, entry_points=False)
    server.set_app(create_sandbox_app(services))  # Bling's app with the stand-ins and the page
    stop = threading.Event()

    def work() -> None:  # what `bling worker` does, in a thread
        while not stop.is_set():
            drain(services)
            time.sleep(0.05)

    thread = threading.Thread(target=work, name="sandbox-worker", daemon=True)
    with server:
        provision_now(services)
        if worker:
            thread.start()
        try:
            yield SimpleNamespace(url=server.url, services=services, settings=settings, env=env)
        finally:
            finish_deliveries()  # their status callbacks need Bling up
            stop.set()
            if worker:
                thread.join(timeout=10)
            services.store.close()


def wait_for(check, timeout: float = 15.0, interval: float = 0.1):
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up waiting after {timeout}s (last value: {value!r})")
