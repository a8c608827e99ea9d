"""Health and metrics: JSON logs with ids and no secrets, /metrics in Prometheus format, /healthz.

Help Scout is unreachable in these tests (the network is blocked and no
cassette plays), so the accepted text's job fails and is retried: that
exercises the job's log lines, the retry and API-call counters and the
"last failure" of /healthz.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bling.ops import logs, redaction
from bling.ops.health import ApiRecorder, health_report, record_worker_heartbeat
from bling.jobs.worker import drain
from support import AUTH_TOKEN, WEBHOOK_SECRET, load_form, post_twilio

SMS = "/bling/twilio_sms"


@pytest.fixture
def log_lines(settings):
    """Capture Bling's JSON log lines (as `bling` configures them) into a list of dicts."""
    stream = io.StringIO()
    level = logging.getLogger().level
    handler = logs.configure("DEBUG", stream=stream)  # polled paths (/healthz) log at DEBUG
    logs.add_secrets_of(settings)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)


def samples(client, name: str) -> dict[tuple, float]:
    """Every sample of the metric family ``name`` from GET /metrics, keyed by its sorted labels."""
    resp = client.simulate_get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_every_line_is_json_with_a_request_or_job_id_and_no_secret(client, services, settings, log_lines):
    resp = post_twilio(client, SMS, load_form("sms_basic"))
    assert resp.status_code == 200 and len(resp.headers["x-request-id"]) == 32
    given = client.simulate_get("/healthz", headers={"X-Request-Id": "lb-1234.abc"})
    assert given.headers["x-request-id"] == "lb-1234.abc"
    assert client.simulate_get("/healthz", headers={"X-Request-Id": "bad id\nx"}).headers["x-request-id"] != "bad id\nx"
    drain(services)  # Help Scout is unreachable: the job is retried and says so
    logging.getLogger("bling.test").warning("leak attempt %s %s Bearer abcdef123456 postgresql://u:pw123456@db/x",
                                            AUTH_TOKEN, WEBHOOK_SECRET)
    lines = log_lines()
    assert lines, "nothing was logged"
    http = [line for line in lines if line["logger"] == "bling.http"]
    assert {(line["method"], line["path"], line["status"]) for line in http} >= {("POST", SMS, 200), ("GET", "/healthz", 200)}
    assert all(line.get("request_id") for line in http)
    assert any(line["request_id"] == "lb-1234.abc" for line in http)
    retried = [line for line in lines if "will retry" in line["message"]]
    assert retried and all(line["job_id"] == "1" for line in retried)
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in (AUTH_TOKEN, WEBHOOK_SECRET, settings.helpscout_client_secret, "abcdef123456", "pw123456"):
        assert secret not in text
    assert "leak attempt [redacted] [redacted] Bearer [redacted] postgresql://u:[redacted]@db/x" in text


def test_a_traceback_is_one_json_line_without_secrets(log_lines, settings):
    try:
        raise RuntimeError(f"Twilio said no to token {settings.twilio_auth_token}")
    except RuntimeError:
        logging.getLogger("bling.test").exception("it failed")
    (line,) = [line for line in log_lines() if line["logger"] == "bling.test"]
    assert line["level"] == "ERROR" and "RuntimeError: Twilio said no to token [redacted]" in line["error"]
    assert settings.twilio_auth_token not in json.dumps(line)


@hypothesis_settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(redaction._PATTERNS).flatmap(lambda p: st.from_regex(p[0])))
def test_redaction_shortcut_never_skips_a_credential_shape(text):
    """Text the quick search passes over is never text a pattern would have changed."""
    assert redaction._TRIGGER.search(text), text


@pytest.mark.parametrize("sandbox", [False, True])
@pytest.mark.parametrize("bound", [{}, {"request_id": "r-1"}, {"job_id": "7", "extra_ctx": {"n": 1}}])
@pytest.mark.parametrize("message,args,extra", [
    ("%s %s %s", ("POST", "/bling/twilio_sms", 200), {"method": "POST", "path": "/x", "status": 200, "duration_ms": 6.3}),
    ("plain ünïcode ✓ line  ", (), {}),
    ("token %s and Bearer abcdef123456 at postgresql://u:pw123456@db/x", ("0123456789abcdef0123456789abcdef",), {}),
    ("given %s", (object(),), {"request_id": "overrides-the-bound-one", "job_id": 3, "not_listed": "dropped"}),
    ("odd value", (), {"path": float("nan")}),
])
def test_plain_records_take_a_short_way_to_the_same_line(sandbox, bound, message, args, extra):
    """The JSON formatter's direct way gives the line structlog's processors give: same fields, order, redaction."""
    import structlog

    redaction.redact.add("0123456789abcdef0123456789abcdef")
    fast = logs.formatter(sandbox=sandbox, fmt="json")
    record = logging.getLogger("bling.test").makeRecord("bling.test", logging.WARNING, __file__, 1, message, args,
                                                        None, extra=extra)
    with structlog.contextvars.bound_contextvars(**bound):
        lines = [json.loads(fast.format(record)),
                 json.loads(structlog.stdlib.ProcessorFormatter.format(fast, record))]  # the long way
    assert lines[0].pop("time")[:4] == lines[1].pop("time")[:4]
    assert list(lines[0].items()) == list(lines[1].items())
    assert "0123456789abcdef0123456789abcdef" not in json.dumps(lines[0])


def test_sandbox_lines_say_so(settings):
    stream = io.StringIO()
    handler = logs.configure("INFO", stream=stream, sandbox=True)
    try:
        logging.getLogger("bling.test").info("hello")
    finally:
        logging.getLogger().removeHandler(handler)
    assert json.loads(stream.getvalue().splitlines()[-1])["mode"] == "SANDBOX"


def test_metrics_parse_and_count_webhooks_jobs_api_calls_and_retries(client, services):
    route = (("outcome", "accepted"), ("route", SMS))
    forged = (("outcome", "forged"), ("route", SMS))
    before = samples(client, "bling_webhooks_total")
    retries_before = samples(client, "bling_job_retries_total").get((("route", SMS),), 0)
    api_before = sum(v for k, v in samples(client, "bling_api_calls_total").items() if ("service", "helpscout") in k)
    assert post_twilio(client, SMS, load_form("sms_basic")).status_code == 200
    assert post_twilio(client, SMS, load_form("sms_basic"), signature="forged").status_code == 403
    assert client.simulate_post(SMS, body="MessageSid=x", content_type="application/x-www-form-urlencoded",
                                headers={"X-Twilio-Signature": "x"}).status_code == 403
    drain(services)
    after = samples(client, "bling_webhooks_total")
    assert after[route] == before.get(route, 0) + 1
    assert after[forged] == before.get(forged, 0) + 2
    assert samples(client, "bling_job_retries_total")[(("route", SMS),)] == retries_before + 1
    assert sum(v for k, v in samples(client, "bling_api_calls_total").items() if ("service", "helpscout") in k) > api_before
    assert samples(client, "bling_job_run_seconds_count")[(("outcome", "retry"), ("route", SMS))] >= 1
    assert samples(client, "bling_queue_pending")[()] == 1
    assert samples(client, "bling_queue_dead_letters")[()] == 0


def test_rate_limit_waits_and_sms_are_counted(client, services):
    from bling.ops.metrics import record_rate_limit_wait, record_sms

    waits = samples(client, "bling_rate_limit_waits_total").get((("service", "helpscout"),), 0)
    sent = samples(client, "bling_sms_total").get((("outcome", "sent"),), 0)
    services.store.take_budget("helpscout", 1000, 0.8, 200)  # more than the budget: nothing is spent
    with pytest.raises(Exception, match="budget is spent"):
        services.helpscout.budget.acquire(1000)
    record_sms("sent")
    record_rate_limit_wait("twilio", 3)
    assert samples(client, "bling_rate_limit_waits_total")[(("service", "helpscout"),)] == waits + 1
    assert samples(client, "bling_sms_total")[(("outcome", "sent"),)] == sent + 1


def test_healthz_reports_queue_workers_and_the_last_api_calls(client, services, clock):
    assert post_twilio(client, SMS, load_form("sms_basic")).status_code == 200
    recorder = ApiRecorder(services.store, clock=clock)
    recorder.observe("twilio", 201, 0.05)
    recorder.observe("helpscout", 503, 0.1, "GET /v2/conversations → 503")
    report = client.simulate_get("/healthz").json
    assert report["status"] == "ok" and report["queue"] == "ok" and report["store"] == "ok"
    assert report["pending"] == 1 and report["due"] == 1 and report["oldest_due_seconds"] == 0
    assert report["last_success"]["twilio"] == "2026-11-25T12:00:00+00:00" and report["last_success"]["helpscout"] is None
    assert report["last_failure"]["helpscout"] == {"at": "2026-11-25T12:00:00+00:00"}  # when, not what
    assert "the last helpscout call failed: see `bling health`" in report["warnings"]
    assert "mode" not in report


def test_healthz_keeps_what_failed_behind_the_cli(client, services, clock):
    """Anyone can read /healthz: a failed call's text (conversation ids, Call SIDs) stays out of it."""
    recorder = ApiRecorder(services.store, clock=clock)
    recorder.observe("twilio", 404, 0.05, "POST CA0123456789abcdef0123456789abcdef.json → 404")
    recorder.observe("helpscout", 500, 0.1, "POST /v2/conversations/4242/threads → 500")
    public = client.simulate_get("/healthz").text
    assert "4242" not in public and "CA0123456789abcdef" not in public
    _status, detailed = health_report(services, details=True)
    assert detailed["last_failure"]["helpscout"]["what"] == "POST /v2/conversations/4242/threads → 500"
    assert any("CA0123456789abcdef0123456789abcdef" in w for w in detailed["warnings"])


def test_healthz_is_503_when_due_work_waits_and_no_worker_is_seen(client, services, clock, monkeypatch):
    monkeypatch.setenv("BLING_HEALTH_MAX_WAIT", "600")
    record_worker_heartbeat(services.store)
    assert post_twilio(client, SMS, load_form("sms_basic")).status_code == 200
    clock.advance(300)
    assert client.simulate_get("/healthz").status_code == 200
    clock.advance(600)  # due for 900 s, and the last heartbeat was 900 s ago: the worker is dead
    resp = client.simulate_get("/healthz")
    assert resp.status_code == 503 and resp.json["status"] == "unhealthy"
    assert "no worker has been seen for 900s" in resp.json["problems"][0]
    record_worker_heartbeat(services.store)  # a live worker that is behind: only a warning
    resp = client.simulate_get("/healthz")
    assert resp.status_code == 200 and "waited 900s for a worker" in resp.json["warnings"][0]


def test_healthz_is_503_when_the_queue_is_unreachable(client, services, monkeypatch):
    def gone():
        raise OSError("disk gone")

    monkeypatch.setattr(services.store, "ping", gone)  # the store is the queue
    resp = client.simulate_get("/healthz")
    assert resp.status_code == 503 and resp.json["queue"] == "unreachable: OSError"


def test_a_failed_insert_does_not_log_the_message_or_the_number(store_url, log_lines):
    """SQLAlchemy puts a failed statement's parameters in its error; Bling's engines hide them."""
    from bling.store.core import Store

    store = Store(store_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bling_inbox")  # every accept now fails
    with pytest.raises(Exception) as failed:
        store.accept("twilio:sms:SM1", SMS, "+16175550100|+16175550187", {"body": "my secret worry", "from_": "+16175550187"})
    logging.getLogger("bling.edge").exception("could not record %s event %s", SMS, "twilio:sms:SM1")
    text = "\n".join(json.dumps(line) for line in log_lines()) + str(failed.value)
    assert "bling_inbox" in text  # the failure itself is logged ...
    assert "my secret worry" not in text and "6175550187" not in text  # ... without what it carried
    store.close()


def test_bling_health_prints_what_failed(services, env, clock):
    """The details /healthz leaves out are the operator's, on the server."""
    from click.testing import CliRunner

    from bling.cli.main import main

    ApiRecorder(services.store, clock=clock).observe("helpscout", 500, 0.1, "POST /v2/conversations/4242/threads → 500")
    result = CliRunner().invoke(main, ["health"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["last_failure"]["helpscout"]["what"] == "POST /v2/conversations/4242/threads → 500"


def test_no_log_line_carries_a_message_body(client, services, log_lines):
    """Texts, transcriptions and agent replies go through accept, a failing worker and retries: none is logged."""
    from support import load_json, post_helpscout

    assert post_twilio(client, SMS, load_form("sms_basic", Body="my private worry 1")).status_code == 200
    assert post_twilio(client, "/bling/twilio_transcription", load_form(
        "voice_transcription", TranscriptionText="my private worry 2")).status_code == 200
    reply = load_json("agent_reply_v2")
    reply["_embedded"]["threads"][0]["body"] = "<div>my private worry 3</div>"
    assert post_helpscout(client, "/bling/helpscout_webhook", reply).status_code == 204
    assert post_twilio(client, SMS, load_form("sms_basic", Body="my private worry 4", MessageSid="bad")).status_code == 422
    drain(services)  # Help Scout and Twilio are unreachable: every job fails and says so
    lines = log_lines()
    assert any("will retry" in line["message"] for line in lines)
    assert "private worry" not in "\n".join(json.dumps(line) for line in lines)
