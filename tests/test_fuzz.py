"""A signed-request fuzzer: every route of routes.toml, generated payloads, SQLite and PostgreSQL.

Each request is signed the way its sender signs (Twilio, Help Scout, the
dialer page's token and CSRF value), so it gets past the edge and into the
schema, the chain and the worker. Payloads start from a real fixture of the
route and have fields replaced, added or removed: NUL, long text, numbers,
markup, objects where text belongs. Bling must answer every one below 500
(a 503 means only that the store is down, and it is up) and no accepted job
may fail with a programming error in the worker. Examples are bounded and
derandomized, so the run is short and repeatable (issue 13, point 4).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import tomllib
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from bling.jobs.worker import drain
from dialer_support import APP_SECRET, app_payload, dialer_env, open_page, token_for
from support import PUBLIC_URL, load_form, load_json, post_helpscout, post_twilio

ROUTES = {route["name"]: route for route in tomllib.loads(
    (Path(__file__).resolve().parent.parent / "routes.toml").read_text())["route"]}
CALLER_QUERY = "caller=%2B16175550123&hotline=%2B16175550100"  # what Bling puts in those callback URLs
#: Route → (Twilio form fixture, the query Bling puts in that callback URL).
TWILIO_FORMS = {
    "twilio-sms": ("sms_basic", ""), "twilio-sms-fallback": ("sms_basic", ""),
    "twilio-voice": ("voice_incoming", ""), "twilio-voice-screen": ("voice_screen", CALLER_QUERY),
    "twilio-voice-accept": ("voice_screen", CALLER_QUERY), "twilio-voice-dial-done": ("voice_dial_done", ""),
    "twilio-voice-voicemail": ("voice_incoming", ""), "twilio-voice-record-done": ("voice_record_done", ""),
    "twilio-voice-recording": ("voice_recording", CALLER_QUERY), "twilio-transcription": ("voice_transcription", ""),
    "twilio-voicemail": ("studio_voicemail", ""), "twilio-sms-status": ("sms_status_delivered", ""),
    "twilio-whatsapp": ("whatsapp_basic", ""),
    "dialer-answer": ("dialer_answer", "call=fuzzcall1&leg=agent"),
    "dialer-connect": ("dialer_gather", "call=fuzzcall1&leg=agent"),
    "dialer-call-status": ("dialer_agent_status", "call=fuzzcall1&leg=agent"),
}
#: Worker failures that mean Bling's own code broke on the payload (not a refused or unreachable API).
PROGRAMMING_ERRORS = ("TypeError", "KeyError", "AttributeError", "IndexError", "ValueError", "OverflowError",
                      "RecursionError", "UnicodeError", "AssertionError", "ZeroDivisionError", "DataError",
                      "IntegrityError", "ProgrammingError", "StatementError")
FUZZ = hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FUZZ_JSON = hypothesis_settings(FUZZ, max_examples=100)  # deeper documents: more places to change

UTF8 = st.characters(codec="utf-8", exclude_characters="\x00")  # NUL comes from the odd values below, not everywhere
ODD_TEXT = st.one_of(
    st.text(UTF8, max_size=30),
    st.text(UTF8, min_size=201, max_size=260),
    st.sampled_from(["", "\x00", "CA\x00", "0", "-1", "1e999", "NaN", "null", "<b>x</b>&amp;", "x" * 250,
                     "+16175550123", "CA" + "0" * 32, "RE" + "5" * 32 + "0", "SM" + "f" * 31, "completed\x00",
                     "9" * 400, "\u202e\ufeff", "%00", "../../etc/passwd"]),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
              st.floats(allow_nan=False), ODD_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(UTF8, max_size=8), inner, max_size=3),
    max_leaves=8,
)


_serial = itertools.count(1)
_SID = re.compile(r"^(SM|MM|CA|RE|TR)[0-9a-fA-F]{32}$")


def fresh_ids(pairs):
    """New SIDs for every example: a repeated one is a duplicate delivery, acknowledged and never run."""
    serial = next(_serial)
    return [(k, v[:2] + f"{serial:032x}" if _SID.match(v) and k != "AccountSid" else v) for k, v in pairs]


def fresh_threads(document: dict) -> dict:
    """The Help Scout fixture with a new conversation and thread id (the idempotency key)."""
    document = json.loads(json.dumps(document))
    serial = next(_serial)
    document["id"] = 600000 + serial
    for index, thread in enumerate(document["_embedded"]["threads"]):
        thread["id"] = 9000000 + serial * 10 + index
    return document


def form_mutations(fixture: str, schema_keys: list[str]):
    """The fixture's form with some fields replaced by odd text, some added, some removed.

    Fields come from the fixture and from the route's schema (optional ones
    the fixture lacks, e.g. a Studio flow's RecordingSid).
    """
    pairs = load_form(fixture)
    names = sorted({name for name, _ in pairs} | set(schema_keys))
    return st.tuples(
        st.dictionaries(st.sampled_from(names) | st.text(UTF8, min_size=1, max_size=12), ODD_TEXT, min_size=1, max_size=4),
        st.sets(st.sampled_from(names), max_size=2),
    ).map(lambda change: fresh_ids([(k, v) for k, v in pairs if k not in change[1] and k not in change[0]])
          + list(change[0].items()))


def paths_of(value, prefix=()):
    """Every path into a JSON document (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, prefix + (index,))


def replaced(document, path, value):
    """A copy of ``document`` with the value at ``path`` replaced (the whole document for the empty path)."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return copy


#: Field names Help Scout and the dialer page use: added where the fixture lacks them.
KNOWN_KEYS = ["phones", "emails", "phone", "id"]
#: Objects whose fields Bling reads (added keys go there; replaced values go anywhere).
PEOPLE = {"primaryCustomer", "customer", "createdBy", "user", "ticket", "mailbox", "_embedded"}


def json_mutations(document):
    """``document`` with up to three values replaced, or keys added, by generated JSON."""
    paths = list(paths_of(document))
    dict_paths = [p for p in paths if isinstance(_at(document, p), dict) and (not p or p[-1] in PEOPLE) and "_links" not in p]

    def apply(changes):
        result = document
        for path, added_key, value in changes:
            try:
                if added_key is not None and isinstance(_at(result, path), dict):
                    path = path + (added_key,)
                result = replaced(result, path, value)
            except (KeyError, IndexError, TypeError):  # an earlier change removed this path
                pass
        return result

    change = st.one_of(st.tuples(st.sampled_from(paths), st.none(), JSON_VALUES),
                       st.tuples(st.sampled_from(dict_paths), st.sampled_from(KNOWN_KEYS), JSON_VALUES))
    return st.lists(change, min_size=1, max_size=3).map(apply)


def _at(document, path):
    for step in path:
        document = document[step]
    return document


@pytest.fixture
def env(store_url):
    return dialer_env(store_url)


@pytest.fixture
def dialer_page(client, services):
    token = token_for(services)
    _, csrf = open_page(client, token)
    return token, csrf


def assert_no_crash(resp, services, what) -> None:
    assert resp.status_code < 500, f"{what} → {resp.status_code} {resp.text[:300]}"
    drain(services)
    for row in services.store.rows():
        error = row.get("last_error") or ""
        assert not error.startswith(PROGRAMMING_ERRORS), f"{what}: the worker crashed: {error[:500]}"


@pytest.mark.parametrize("name", sorted(TWILIO_FORMS))
def test_signed_twilio_requests(name, client, services):
    fixture, query = TWILIO_FORMS[name]
    path = ROUTES[name]["path"]
    (chain,) = [c for c in services.chains if c.route.path == path]
    schema_keys = [field.data_key or field_name for field_name, field in chain.schema.fields.items()]

    @FUZZ
    @given(pairs=form_mutations(fixture, schema_keys), odd_query=st.booleans(), query_value=ODD_TEXT)
    def run(pairs, odd_query, query_value):
        sent_query = query
        if odd_query and query:  # Bling's own query values are signed too: fuzz them as well
            first = parse_qsl(query)[0][0]
            sent_query = "&".join([f"{first}={query_value.encode().hex()[:60]}"] + query.split("&")[1:])
        assert_no_crash(post_twilio(client, path, pairs, query=sent_query), services, (name, pairs, sent_query))

    run()


@pytest.mark.parametrize("name, event", [("helpscout-webhook", "convo.agent.reply.created"),
                                         ("helpscout-webhook", "convo.created")])
def test_signed_help_scout_webhooks(name, event, client, services):
    @FUZZ_JSON
    @given(payload=st.builds(lambda: fresh_threads(load_json("agent_reply_v2"))).flatmap(json_mutations))
    def run(payload):
        resp = post_helpscout(client, ROUTES[name]["path"], payload, event=event)
        assert_no_crash(resp, services, (name, payload))

    run()


def test_signed_sidebar_app_requests(client, services):
    @FUZZ_JSON
    @given(payload=json_mutations(app_payload()))
    def run(payload):
        resp = post_helpscout(client, ROUTES["helpscout-app"]["path"], payload, event=None, secret=APP_SECRET)
        assert_no_crash(resp, services, payload)

    run()


@pytest.mark.parametrize("name, document", [("dialer-call", {"phone": "not a phone"}), ("dialer-cancel", {"call": "abc"})])
def test_dialer_page_actions(name, document, client, services, dialer_page):
    token, csrf = dialer_page

    @FUZZ
    @given(payload=json_mutations(document))
    def run(payload):
        resp = client.simulate_post(ROUTES[name]["path"], body=json.dumps(payload), content_type="application/json",
                                    headers={"X-Bling-Token": token, "X-Bling-CSRF": csrf,
                                             "Sec-Fetch-Site": "same-origin", "Origin": PUBLIC_URL})
        assert_no_crash(resp, services, (name, payload))

    run()


@pytest.mark.parametrize("name", ["dialer-page", "dialer-status"])
def test_dialer_page_reads(name, client, services, dialer_page):
    token, _csrf = dialer_page

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["t", "call", "x"]), ODD_TEXT, max_size=3))
    def run(params):
        params = {k: v for k, v in params.items() if "\x00" not in k}
        if name == "dialer-page":
            params.setdefault("t", token)
            resp = client.simulate_get(ROUTES[name]["path"], params=params)
        else:
            resp = client.simulate_get(ROUTES[name]["path"], params=params, headers={"X-Bling-Token": token})
        assert_no_crash(resp, services, (name, params))

    run()


def test_every_route_is_fuzzed():
    fuzzed = set(TWILIO_FORMS) | {"helpscout-webhook", "helpscout-app", "dialer-call", "dialer-cancel",
                                  "dialer-page", "dialer-status"}
    loader_only = {name for name, route in ROUTES.items() if route.get("methods") == []}  # no HTTP at all
    assert loader_only == {"mobilecommons-messages"}
    assert set(ROUTES) - loader_only == fuzzed
