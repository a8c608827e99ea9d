"""``bling serve --sandbox``: switch the process into the sandbox and provision it once it answers."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import threading
import time

import requests

from bling.errors import ConfigError
from bling_fakes.sandbox import FLAG
from bling_fakes.sandbox.config import refuse_real_credentials, refuse_real_addresses

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
    from bling.ops.logs import configure

    configure(os.environ.get("BLING_LOG_LEVEL", "INFO"), sandbox=True)  # every line says SANDBOX
    return os.environ["BLING_PUBLIC_URL"].rstrip("/")


def cli_environ(url: str) -> dict[str, str]:
    """What the CLI needs to act on this running sandbox: its flag, URL and store (an absolute path)."""
    from bling_fakes.sandbox.config import DEFAULT_STORE

    store = os.environ.get("BLING_STORE_URL", "").strip() or DEFAULT_STORE
    if store.startswith("sqlite:///") and not store.startswith("sqlite:////"):
        store = "sqlite:///" + os.path.abspath(store[len("sqlite:///"):])
    elif "://" not in store:
        store = "sqlite:///" + os.path.abspath(store)
    return {FLAG: "1", "BLING_PUBLIC_URL": url, "BLING_STORE_URL": store}


def announce(url: str) -> str:
    """The loud start-up text; writes BLING_SANDBOX_ENV_FILE (read by scripts/bling) when it is set."""
    from bling.cli.first_run import sandbox_banner

    settings = cli_environ(url)
    path = os.environ.get("BLING_SANDBOX_ENV_FILE", "").strip()
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# Written by `bling serve --sandbox`: scripts/bling reads it to reach the running sandbox.\n")
            handle.writelines(f"export {name}={shlex.quote(value)}\n" for name, value in settings.items())
        hint = "scripts/bling check   (scripts/bling --help lists every command)"
    else:
        command = os.path.join(os.path.dirname(sys.executable), "bling")
        hint = " ".join(f"{name}={shlex.quote(value)}" for name, value in settings.items()) + f" {command} check"
    return sandbox_banner(url, hint)


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
    from bling.ops.provision import apply_plan, describe, make_plan

    if services is None:
        from bling.services import build_services
        from bling_fakes.sandbox.app import sandbox_settings

        services = build_services(sandbox_settings())
    plan = apply_plan(services, make_plan(services))
    lines = describe(plan)
    for line in lines:
        log.info("sandbox provision: %s", line)
    return lines
