"""The gunicorn worker class of Bling's web processes: gevent, with a deadline per connection.

gunicorn's sync worker ties a whole process to one socket, so ten clients
sending a body a byte a second stop every webhook (issue 13). Here every
connection is a greenlet: a slow or stalled client costs a little memory,
and Twilio's and Help Scout's requests are answered beside it. Each
connection also gets a deadline (``CONNECTION_SECONDS``, headers, body and
answer together): when it passes, the socket is shut down, so nobody holds
a connection open for ever by trickling bytes or saying nothing.

psycopg2 is made cooperative (psycogreen) so a PostgreSQL query yields to
other greenlets instead of blocking the process; SQLite calls are short
local writes and stay blocking.
"""

from __future__ import annotations

import socket

import gevent
from gunicorn.workers.ggevent import GeventWorker

#: The longest one client connection may last: far above a webhook's few
#: milliseconds and a 256 KB body from a slow network, below Twilio's 15 s
#: budget times two, so a stalled client is gone before it matters.
CONNECTION_SECONDS = 30


class BlingWebWorker(GeventWorker):
    """gunicorn's gevent worker; every connection is shut down after CONNECTION_SECONDS."""

    def patch(self):
        super().patch()  # gevent's monkey.patch_all()
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()

    def handle(self, listener, client, addr):
        deadline = gevent.spawn_later(CONNECTION_SECONDS, _shut, client)
        try:
            super().handle(listener, client, addr)
        finally:
            deadline.kill(block=False)


def _shut(client) -> None:
    """End a connection that outlived its deadline: its reads see end-of-file, gunicorn closes it quietly."""
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
