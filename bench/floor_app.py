"""The floor: the cheapest correct Twilio SMS webhook on Bling's stack.

Why: Bling's answer latency only means something next to what the stack
itself costs. This endpoint does the part no hotline can skip — read the
form, check ``X-Twilio-Signature`` (HMAC-SHA1 over BLING_PUBLIC_URL + path
and the fields, with the twilio library) and answer an empty TwiML
``<Response/>`` — and nothing else: no parsing into a schema, no store, no
queue. It is served by Bling's own gunicorn runner
(``bling.edge.wsgi.run_gunicorn``: same worker class, worker count, timeout and
access log), so the ratio Bling/floor is the price of Bling's work alone.

Run: ``python bench/floor_app.py --bind 127.0.0.1:5100 --workers 2`` with
TWILIO_AUTH_TOKEN and BLING_PUBLIC_URL set.
"""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import parse_qsl

import falcon
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

PATH = "/bling/twilio_sms"
EMPTY_TWIML = str(MessagingResponse())


class TwilioFloor:
    """Verify the signature, answer empty TwiML."""

    def __init__(self, public_url: str, auth_token: str):
        self.public_url = public_url.rstrip("/")
        self.validator = RequestValidator(auth_token)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        signature = req.get_header("X-Twilio-Signature") or ""
        if not self.validator.validate(self.public_url + req.relative_uri, params, signature):
            raise falcon.HTTPForbidden(title="Signature check failed")
        resp.content_type = "text/xml; charset=utf-8"
        resp.text = EMPTY_TWIML


def create_app() -> falcon.App:
    """The floor app, configured from the same variables Bling reads."""
    app = falcon.App()
    app.req_options.auto_parse_form_urlencoded = False
    app.add_route(PATH, TwilioFloor(os.environ["BLING_PUBLIC_URL"], os.environ["TWILIO_AUTH_TOKEN"]))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the floor endpoint the way `bling serve` serves Bling.")
    parser.add_argument("--bind", default="127.0.0.1:5100")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")  # as `bling` does
    from bling.edge.wsgi import run_gunicorn

    # Bling's runner with every gunicorn option identical; each worker builds the floor's app.
    run_gunicorn(args.bind, args.workers, app_factory=create_app)


if __name__ == "__main__":
    main()
