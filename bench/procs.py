"""Process plumbing for the benchmark: start, find, measure and stop servers.

Memory is read from /proc (VmHWM = the peak resident set a process ever
had, kept by the kernel), so no extra package is needed and a peak between
two samples is not missed. Linux only, like the deployment target.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``cmd`` in its own session (so its children can be stopped with it), output to ``log_path``."""
    log = open(log_path, "ab")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM (graceful: gunicorn and the job engine finish their work), then SIGKILL the session if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session we created for it, by its id
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers 2xx (or raise, saying why)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as ex:
            last = f"HTTP {ex.code}"
        except OSError as ex:
            last = f"{type(ex).__name__}"
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s ({last})")


def wait_port(host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def status(pid: int) -> dict[str, int]:
    """Memory fields of /proc/<pid>/status in kB (VmHWM, VmRSS); {} if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS", "PPid"):
            values[name] = int(rest.split()[0])
    return values


def peak_rss_mb(pid: int) -> float | None:
    kb = status(pid).get("VmHWM")
    return kb / 1024 if kb is not None else None


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return []


def children(pid: int) -> list[int]:
    """Live direct children of ``pid`` (scan of /proc: works without CONFIG_PROC_CHILDREN)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and status(int(entry.name)).get("PPid") == pid:
            if "State:\tZ" not in _read(entry / "status"):
                found.append(int(entry.name))
    return sorted(found)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
