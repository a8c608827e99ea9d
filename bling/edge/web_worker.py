"""The gunicorn worker class of Bling's web processes: gevent, with a deadline per connection.

gunicorn's sync worker ties a whole process to one socket, so ten clients
sending a body a byte a second stop every webhook (issue 13). Here every
connection is a greenlet: a slow or stalled client costs a little memory,
and Twilio's and Help Scout's requests are answered beside it. Each
connection also gets a deadline (``BLING_CONNECTION_SECONDS``, default 30:
headers, body and answer together): when it passes, the socket is shut down, so nobody holds
a connection open for ever by trickling bytes or saying nothing.

psycopg2 is made cooperative (psycogreen) so a PostgreSQL query yields to
other greenlets instead of blocking the process; SQLite calls are short
local writes and stay blocking (and a SQLite store's web processes never
load psycopg2: 5 MB each).
"""

from __future__ import annotations

import os
import socket

import gevent
from gunicorn.workers.ggevent import GeventWorker

from bling.errors import ConfigError

#: The longest one client connection may last by default: far above a
#: webhook's few milliseconds and a 256 KB body from a slow network, twice
#: Twilio's 15 s budget, so a stalled client is gone before it matters.
DEFAULT_CONNECTION_SECONDS = 30.0


def connection_seconds() -> float:
    """BLING_CONNECTION_SECONDS, or the default."""
    value = os.environ.get("BLING_CONNECTION_SECONDS", "").strip()
    try:
        seconds = float(value) if value else DEFAULT_CONNECTION_SECONDS
    except ValueError:
        raise ConfigError(f"BLING_CONNECTION_SECONDS: {value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise ConfigError(f"BLING_CONNECTION_SECONDS: {value!r} must be more than 0")
    return seconds


class BlingWebWorker(GeventWorker):
    """gunicorn's gevent worker; every connection is shut down after BLING_CONNECTION_SECONDS."""

    def init_process(self):
        self.connection_seconds = connection_seconds()
        super().init_process()

    def patch(self):
        super().patch()  # gevent's monkey.patch_all()
        if _store_is_postgres():
            from psycogreen.gevent import patch_psycopg

            patch_psycopg()

    def handle(self, listener, client, addr):
        deadline = gevent.spawn_later(self.connection_seconds, _shut, client)
        try:
            super().handle(listener, client, addr)
        finally:
            deadline.kill(block=False)


def _store_is_postgres() -> bool:
    """Does this process's store (BLING_STORE_URL, as the settings read it) live in PostgreSQL?"""
    from bling.config.settings import load_settings

    try:
        return load_settings().store_url.startswith("postgresql")
    except ConfigError:
        return True  # the app will say what is wrong when it loads; patching does no harm meanwhile


def _shut(client) -> None:
    """End a connection that outlived its deadline: its reads see end-of-file, gunicorn closes it quietly."""
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
