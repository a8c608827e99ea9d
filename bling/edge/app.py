"""The Falcon app: one generic endpoint class serves every route of routes.toml.

Request path (ARCHITECTURE.md §3): read the raw body once (size-limited) →
verify the sender before parsing anything → turn the body into fields →
``accept`` (bling/routing/accept.py, the one way in for every event: load with
the route's schema, key, find the mailbox, triage, one INSERT — the inbox row
is the queue) → answer at once. Only a failure to accept answers 5xx, so
Twilio's fallback handler can tell the supporter.
"""

from __future__ import annotations

import json
import logging

import falcon
from twilio.twiml.messaging_response import MessagingResponse

from bling.context import Context
from bling.edge.verifiers import form_pairs
from bling.routing.accept import DUPLICATE, IGNORED, INVALID, NotRecorded, accept, describe_errors
from bling.services import Services

log = logging.getLogger("bling.edge")

EMPTY_TWIML = str(MessagingResponse())
TWIML_TYPE = "text/xml; charset=utf-8"  # never text/plain: Twilio would text it back


class Endpoint:
    """Serve one route: verify → parse → triage → accept → answer."""

    def __init__(self, services: Services, chain):
        self.services = services
        self.chain = chain
        self.route = chain.route

    def on_post(self, req, resp):
        if "POST" not in self.route.methods:
            raise falcon.HTTPMethodNotAllowed(list(self.route.methods))
        self._serve(req, resp)

    def on_get(self, req, resp):
        if "GET" not in self.route.methods:
            raise falcon.HTTPMethodNotAllowed(list(self.route.methods))
        self._serve(req, resp)

    def _serve(self, req, resp):
        metrics = self.services.metrics
        body = self._read_body(req)
        if not self.chain.verifier.verify(req, body, self.services.settings):
            metrics.incr(f"webhook:{self.route.path}:forged")
            log.warning("refused %s: bad or missing signature", self.route.path)
            refusal = getattr(self.chain.verifier, "failure_answer", None)  # e.g. a page for people
            if refusal is not None:
                return self._answer(resp, None, refusal(req, self.services.settings))
            raise falcon.HTTPError(falcon.code_to_http_status(self.chain.verifier.failure_status),
                                   title="Signature check failed",
                                   description="The request signature is missing or does not match.")
        try:
            outcome = accept(self.services, self.route.name, self._parse(req, body), request_base=req.prefix)
        except NotRecorded:
            raise falcon.HTTPServiceUnavailable(description="The event could not be recorded; retry.") from None
        if outcome.status == INVALID:
            raise falcon.HTTPUnprocessableEntity(title="Invalid payload", description=describe_errors(outcome.errors))
        if outcome.status == IGNORED:
            metrics.incr(f"webhook:{self.route.path}:ignored")
            ignored_answer = getattr(self.chain.schema, "ignored_answer", None)  # e.g. a spoken apology
            return self._answer(resp, outcome.context, ignored_answer(outcome.event) if ignored_answer else None)
        if outcome.status == DUPLICATE:
            metrics.incr(f"webhook:{self.route.path}:duplicate")
        if not self.route.is_job:
            results = [r for r in self.chain.handle(outcome.context, outcome.event) if r is not None]
            metrics.incr(f"webhook:{self.route.path}:rendered")
            return self._answer(resp, outcome.context, results[0] if results else None)
        metrics.incr(f"webhook:{self.route.path}:accepted")
        self._answer(resp, outcome.context, None)

    def _read_body(self, req) -> bytes:
        limit = self.services.settings.max_body_bytes
        if req.content_length is not None and req.content_length > limit:
            raise falcon.HTTPContentTooLarge(description=f"Body over {limit} bytes.")
        body = req.bounded_stream.read(limit + 1)
        if len(body) > limit:
            raise falcon.HTTPContentTooLarge(description=f"Body over {limit} bytes.")
        return body

    def _parse(self, req, body: bytes) -> dict:
        """The sender's fields (body, listed headers, signed query); the route's schema loads them in accept."""
        schema = self.chain.schema
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise falcon.HTTPBadRequest(title="Malformed body", description="The body is not UTF-8.") from None
        if schema.content == "json":
            try:
                data = json.loads(text)
            except ValueError as ex:
                raise falcon.HTTPBadRequest(title="Malformed JSON", description=str(ex)) from None
            except RecursionError:  # thousands of nested brackets: no sender of Bling's writes those
                raise falcon.HTTPBadRequest(title="Malformed JSON", description="The JSON is nested too deeply.") from None
        elif req.method != "POST":
            data = dict(req.params)
        else:  # the fields the verifier checked (parsed once), else the body's
            signed = getattr(req.context, "signed_form", None)
            data = dict(signed) if signed is not None else dict(form_pairs(text))
        if isinstance(data, dict):
            for header, field in schema.headers.items():
                data[field] = req.get_header(header) or ""
            for param, field in getattr(schema, "query", {}).items():  # Bling's own callback query (signed)
                data[field] = req.get_param(param) or ""
        return data

    def _answer(self, resp, context: Context, result) -> None:
        respond = self.route.respond
        if respond == "no_content":
            resp.status = falcon.HTTP_204
            return
        if result is None and respond in ("twiml", "chain"):
            resp.content_type = TWIML_TYPE
            resp.text = EMPTY_TWIML
            return
        if isinstance(result, dict) and "body" in result:
            resp.content_type = result.get("content_type", falcon.MEDIA_HTML)
            resp.status = falcon.code_to_http_status(result.get("status", 200))
            resp.set_headers(result.get("headers", {}))
            resp.text = result["body"]
            return
        if isinstance(result, (dict, list)):
            resp.media = result
            return
        resp.content_type = TWIML_TYPE
        resp.text = str(result)

class Health:
    """GET /healthz: is the store reachable, how much work waits."""

    def __init__(self, services: Services):
        self.services = services

    def on_get(self, req, resp):
        from bling.ops.health import health_report  # store, queue, waiting work, last API successes

        status, report = health_report(self.services)
        resp.status = falcon.code_to_http_status(status)
        resp.media = report


def _error_serializer(req, resp, exception):
    """Errors as small JSON documents, never HTML or tracebacks."""
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps({k: v for k, v in exception.to_dict().items() if k in ("title", "description")})


def create_app(services: Services) -> falcon.App:
    """Build the WSGI app for ``services`` (see bling.services.build_services)."""
    from bling.ops.logs import RequestLog
    from bling.ops.metrics import MetricsResource, WebhookErrors

    app = falcon.App(middleware=[RequestLog(), WebhookErrors()])  # request ids, JSON logs, /metrics counts
    app.set_error_serializer(_error_serializer)
    app.req_options.auto_parse_form_urlencoded = False
    for chain in services.chains:
        app.add_route(chain.route.path, Endpoint(services, chain))
    app.add_route("/healthz", Health(services))
    app.add_route("/metrics", MetricsResource(services))

    def _unexpected(req, resp, ex, params):
        log.exception("unexpected error on %s", req.path)
        raise falcon.HTTPInternalServerError(description="Unexpected error; it has been logged.")

    app.add_error_handler(Exception, _unexpected)  # HTTPError keeps Falcon's own handler
    return app
