"""How a fake is reached: mounted in a Falcon app (the sandbox) or served on a port of its own (bench, tests).

A fake answers ``handle(method, path, query, headers, body) -> Reply``
(``query`` a dict of single values, ``headers`` with lower-case names),
knowing nothing of either transport.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True))


class FalconSink:
    """A Falcon sink handing every request under ``prefix`` to ``fake``."""

    def __init__(self, fake, prefix: str):
        self.fake, self.prefix = fake, prefix

    def __call__(self, req, resp, **_kwargs):
        import falcon

        path = req.path[len(self.prefix):] or "/"
        headers = {name.lower(): value for name, value in req.headers.items()}
        reply = self.fake.handle(req.method, path, _query(req.query_string), headers, req.bounded_stream.read())
        resp.status = falcon.code_to_http_status(reply.status)
        for name, value in reply.headers.items():
            if name.lower() == "content-type":
                resp.content_type = value
            else:
                resp.set_header(name, value)
        resp.data = reply.body


class QuietServer(ThreadingHTTPServer):
    """A client that dies mid-request (the benchmark's SIGKILLed worker) is expected here, not an error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            target = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = fake.handle(self.command, target.path, _query(target.query), headers, body)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format, *args):  # the fake's state is its log
            pass

    return Handler


class Servable:
    """``start()`` serves the fake on a loopback port in a daemon thread; ``stop()`` ends it."""

    _server: ThreadingHTTPServer | None = None
    url: str | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; return the base URL."""
        self._server = QuietServer((host, port), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, name=f"fake-{type(self).__name__}", daemon=True).start()
        self.url = f"http://{host}:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
