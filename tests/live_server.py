"""Serve a WSGI app on a free loopback port in a thread, for tests that need real HTTP.

The server is threaded so the app may call itself (the sandbox's stand-ins
answer on the same port as Bling) and a browser may load several resources
at once.
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


class LiveServer:
    """``with LiveServer(app) as server: requests.get(server.url + "/healthz")``.

    ``LiveServer()`` without an app binds first, so an app that must know its
    own URL (the sandbox) can be built and given with ``set_app`` before
    ``start``.
    """

    def __init__(self, app=None):
        self.httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="live-server", daemon=True)

    def set_app(self, app) -> None:
        self.httpd.set_app(app)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
