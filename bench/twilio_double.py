"""A local Twilio Messages API double for the burst benchmark.

Why: the burst must count auto-replies (exactly one per new supporter) and
failure texts without sending real SMS. Bling talks to Twilio through the
official ``twilio`` library, so this double answers what that library sends
(Twilio's Message resource reference,
https://www.twilio.com/docs/messaging/api/message-resource):

* ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form ``To``, ``From``,
  ``Body``; HTTP Basic ``sid:token``) → 201 JSON, ``status`` ``queued``;
* ``GET /2010-04-01/Accounts/{sid}/Messages.json`` (``To``, ``From``,
  ``DateSent>``/``DateSent<``, ``PageSize``, ``Page``) → the list page the
  library's ``stream()`` reads (``messages`` + paging keys), holding the
  texts sent and the supporters' inbound texts the benchmark records, so
  Bling's periodic reconciliation sees a realistic log.

Like the Help Scout double, a send is recorded before the artificial
latency, so a worker killed mid-send leaves a text it never heard about.
Run alone with ``python bench/twilio_double.py --port 8200``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    created_at: float
    direction: str = "outbound-api"  # or "inbound": a supporter's text, as Twilio's log lists it


class TwilioDouble:
    """In-memory Twilio account that accepts and lists outbound messages."""

    def __init__(self, account_sid: str, auth_token: str, latency: float = 0.0, clock=time.time):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.latency, self.clock = latency, clock
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None

    def sent(self) -> list[Message]:
        """Texts Bling sent (outbound)."""
        with self.lock:
            return [m for m in self.messages if m.direction != "inbound"]

    def record_inbound(self, sid: str, from_: str, to: str, body: str) -> None:
        """A supporter's text, so Twilio's message log (Bling's reconciliation reads it) holds it too."""
        with self.lock:
            self.messages.append(Message(sid, to, from_, body, self.clock(), "inbound"))

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; return the base URL."""
        self._server = QuietServer((host, port), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, name="twilio-double", daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(target)
        path = parts.path
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        with self.lock:
            self.requests += 1
        if path != expected:
            return _error(404, 20404, "The requested resource was not found")
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if headers.get("Authorization", "") != f"Basic {credentials}":
            return _error(401, 20003, "Authenticate")
        if method == "POST":
            return self._create({k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
        if method == "GET":
            return self._list({k: v[0] for k, v in parse_qs(parts.query).items()}, expected)
        return _error(405, 20004, "Method not allowed")

    def _create(self, form: dict) -> tuple[int, bytes]:
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body") and not form.get("MediaUrl"):
            return _error(400, 21602, "Message body is required.")
        if len(form.get("Body", "")) > 1600:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        message = Message("SM" + uuid.uuid4().hex, form["To"], form.get("From", ""), form.get("Body", ""), self.clock())
        with self.lock:
            self.messages.append(message)
        if self.latency:
            time.sleep(self.latency)  # after recording: a killed sender leaves an ambiguous send
        return 201, json.dumps(self._json(message)).encode()

    def _list(self, query: dict, path: str) -> tuple[int, bytes]:
        after = _parse_day(query.get("DateSent>"))
        before = _parse_day(query.get("DateSent<"))
        with self.lock:
            items = [m for m in self.messages
                     if (not query.get("To") or m.to == query["To"])
                     and (not query.get("From") or m.from_ == query["From"])
                     and (after is None or m.created_at >= after)
                     and (before is None or m.created_at < before)]
        items.sort(key=lambda m: m.created_at, reverse=True)
        size = min(1000, max(1, int(query.get("PageSize") or 50)))
        page = max(0, int(query.get("Page") or 0))
        chunk = items[page * size:(page + 1) * size]
        base = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}
        more = (page + 1) * size < len(items)
        return 200, json.dumps({
            "messages": [self._json(m) for m in chunk],
            "first_page_uri": f"{path}?{urlencode({**base, 'Page': 0})}",
            "next_page_uri": f"{path}?{urlencode({**base, 'Page': page + 1})}" if more else None,
            "previous_page_uri": f"{path}?{urlencode({**base, 'Page': page - 1})}" if page else None,
            "page": page, "page_size": size, "start": page * size, "end": page * size + len(chunk) - 1,
            "uri": f"{path}?{urlencode(query)}",
        }).encode()

    def _json(self, m: Message) -> dict:
        created = format_datetime(datetime.fromtimestamp(m.created_at, timezone.utc), usegmt=False)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m.sid}"
        inbound = m.direction == "inbound"
        return {"account_sid": self.account_sid, "api_version": "2010-04-01", "body": m.body,
                "date_created": created, "date_sent": created if inbound else None, "date_updated": created,
                "direction": m.direction, "error_code": None, "error_message": None, "from": m.from_,
                "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
                "price_unit": "USD", "sid": m.sid, "status": "received" if inbound else "queued",
                "subresource_uris": {"media": f"{uri}/Media.json"}, "to": m.to, "uri": f"{uri}.json"}


def _parse_day(value: str | None) -> float | None:
    """``DateSent>`` as the library sends it (YYYY-MM-DD or an ISO-8601 UTC time)."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def _error(status: int, code: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"code": code, "message": message, "status": status,
                               "more_info": f"https://www.twilio.com/docs/errors/{code}"}).encode()


class QuietServer(ThreadingHTTPServer):
    """A client that dies mid-request (the SIGKILLed worker) is expected here, not an error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(double: TwilioDouble):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = double.handle(self.command, self.path, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="0123456789abcdef0123456789abcdef")
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    double = TwilioDouble(args.account_sid, args.auth_token, args.latency)
    print(f"Twilio double on {double.start(port=args.port)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
