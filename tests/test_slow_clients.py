"""Slow and stalled clients do not stop the webhooks (issue 13, point 1).

A real ``bling serve --no-worker`` with ONE web process; 50 connections
are held open – half trickle a body a byte at a time, half sent part of
their headers and went quiet – and a signed Twilio webhook must still be
answered within Twilio's 15 s budget. (gunicorn's sync worker, Bling's
old one, gave the process to the first slow socket: the webhook timed out.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest

from support import HOTLINE, load_form, make_env
from test_serve_processes import BLING, _healthy, free_port, post_sms, wait_until

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
TWILIO_BUDGET_SECONDS = 15
SLOW_CLIENTS = 50


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    """Half announce a body and trickle it; half stop in the middle of their headers."""
    body = urlencode(load_form("sms_basic")).encode()
    sockets = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 2:
            sock.sendall(b"POST /bling/twilio_sms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Sig")
        else:
            sock.sendall(b"POST /bling/twilio_sms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n" % (len(body) * 100))
        sockets.append(sock)
    return sockets


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Send one byte a second on each body-sending socket until stopped."""
    while not stop.wait(1):
        for sock in sockets[::2]:
            try:
                sock.sendall(b"a")
            except OSError:
                pass


@contextmanager
def one_web_process(tmp_path, **env_changes):
    """``bling serve --no-worker`` with one web process on a free port; yields the port."""
    port = free_port()
    env = dict(os.environ, **make_env(f"sqlite:///{tmp_path / 'bling.db'}", BLING_PUBLIC_URL=f"http://127.0.0.1:{port}",
                                      BLING_MAILBOXES=f"twilio:{HOTLINE}:206906", **env_changes))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([BLING, "serve", "--no-worker", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _healthy(port), 30, "the web process")
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_a_signed_webhook_is_answered_while_50_slow_clients_hold_connections(tmp_path):
    stop = threading.Event()
    sockets: list[socket.socket] = []
    with one_web_process(tmp_path) as port:
        sockets = open_slow_clients(port, SLOW_CLIENTS)
        threading.Thread(target=trickle, args=(sockets, stop), daemon=True).start()
        time.sleep(1)  # the server has accepted them and is waiting on their bytes
        try:
            status = post_sms(port, "+16175550199", "still there?", "SM" + "5" * 32, timeout=TWILIO_BUDGET_SECONDS)
        finally:
            stop.set()
            for sock in sockets:
                sock.close()
        assert status == 200


def test_a_client_that_never_finishes_is_cut_off(tmp_path):
    """BLING_CONNECTION_SECONDS bounds a connection, however slowly its bytes arrive."""
    with one_web_process(tmp_path, BLING_CONNECTION_SECONDS="1") as port:
        stalled_body, slow_headers = open_slow_clients(port, 2)
        stop = threading.Event()
        threading.Thread(target=trickle, args=([slow_headers], stop), daemon=True).start()
        try:
            for sock in (stalled_body, slow_headers):
                sock.settimeout(TWILIO_BUDGET_SECONDS)  # far longer than the server allows it
                assert sock.recv(1024) == b""  # the server ended the connection
        finally:
            stop.set()
            stalled_body.close()
            slow_headers.close()
