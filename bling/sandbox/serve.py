"""``bling serve --sandbox``: switch the process into the sandbox and provision it once it answers."""

from __future__ import annotations

import logging
import os
import threading
import time

import requests

from ..errors import ConfigError
from . import FLAG
from .config import refuse_real_credentials, refuse_real_addresses

log = logging.getLogger("bling.sandbox")


def prepare(bind: str) -> str:
    """Refuse real credentials, turn the sandbox on for this process and its children; return its URL."""
    refuse_real_credentials(dict(os.environ))
    refuse_real_addresses(dict(os.environ))
    host, _, port = bind.rpartition(":")
    if not port.isdigit():
        raise ConfigError(f"--bind {bind!r}: expected HOST:PORT")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
    url = f"http://{host}:{port}"
    os.environ[FLAG] = "1"
    os.environ.setdefault("BLING_PUBLIC_URL", url)
    from ..logs import configure

    configure(os.environ.get("BLING_LOG_LEVEL", "INFO"), sandbox=True)  # every line says SANDBOX
    return os.environ["BLING_PUBLIC_URL"].rstrip("/")


def provision_when_up(url: str, timeout: float = 60.0) -> threading.Thread:
    """In a thread: wait for /healthz, then point the fake number and webhook at Bling (bling provision --apply)."""

    def run() -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            log.error("sandbox: Bling did not answer at %s; run `bling provision --apply` by hand", url)
            return
        try:
            provision_now()
        except Exception:
            log.exception("sandbox: provisioning the stand-ins failed")
            return
        log.info("SANDBOX ready: open %s/sandbox", url)

    thread = threading.Thread(target=run, name="sandbox-provision", daemon=True)
    thread.start()
    return thread


def provision_now(services=None) -> list[str]:
    """Run the real provisioning against the stand-ins; return its diff lines."""
    from ..provision import apply_plan, describe, make_plan

    if services is None:
        from ..queue import RecordingWaker
        from ..services import build_services
        from ..settings import load_settings

        services = build_services(load_settings(), waker=RecordingWaker())
    plan = apply_plan(services, make_plan(services))
    lines = describe(plan)
    for line in lines:
        log.info("sandbox provision: %s", line)
    return lines
