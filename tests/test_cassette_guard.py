"""The harness catches a wrong request: tests/cassette_guard.py, tried on small test files of its own.

Each inner test run uses the same plugins as this suite (pytest-recording and
cassette_guard) against a cassette written next to it.
"""

from __future__ import annotations

import textwrap

import pytest
from vcr.request import Request

from cassette_guard import ordered_form_body

pytestmark = pytest.mark.usefixtures("_inner_conftest")

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
URL = "https://api.example.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"

INTERACTION = """\
- request:
    method: POST
    uri: https://api.example.com/send
    body: To=%2B16175550123&Body=part+{n}
    headers:
      Content-Type: [application/x-www-form-urlencoded]
  response:
    status: {{code: 201, message: Created}}
    headers: {{}}
    body: {{string: 'ok'}}
"""
#: Two sends, part 1 then part 2.
CASSETTE = "interactions:\n" + INTERACTION.format(n=1) + INTERACTION.format(n=2) + "version: 1\n"


def form(body: str) -> Request:
    return Request("POST", URL, body.encode(), FORM_HEADERS)


def test_a_blank_form_value_must_be_sent():
    """Planted bug: vcrpy's parse_qs matcher (``SmsApplicationSid=`` dropped, still matched)."""
    with pytest.raises(AssertionError):
        ordered_form_body(form("SmsUrl=https%3A%2F%2Fx"), form("SmsApplicationSid=&SmsUrl=https%3A%2F%2Fx"))
    ordered_form_body(form("SmsApplicationSid=&SmsUrl=https%3A%2F%2Fx"),
                      form("SmsApplicationSid=&SmsUrl=https%3A%2F%2Fx"))


def test_form_parameters_must_come_in_the_recorded_order():
    """Planted bug: parameters compared as a dict (MediaUrl items swapped, still matched)."""
    with pytest.raises(AssertionError):
        ordered_form_body(form("MediaUrl=b&MediaUrl=a"), form("MediaUrl=a&MediaUrl=b"))


def test_form_encodings_of_the_same_pairs_match():
    ordered_form_body(form("Body=a+b&To=%2B1"), form("Body=a%20b&To=+1".replace("+1", "%2B1")))


def test_json_bodies_still_match_by_value():
    headers = {"Content-Type": "application/json"}
    ordered_form_body(Request("POST", URL, b'{"a": 1, "b": 2}', headers),
                      Request("POST", URL, b'{"b": 2, "a": 1}', headers))
    with pytest.raises(AssertionError):
        ordered_form_body(Request("POST", URL, b'{"a": 1}', headers), Request("POST", URL, b'{"a": 2}', headers))


@pytest.fixture
def _inner_conftest(request):
    if "pytester" not in request.fixturenames:
        return
    pytester = request.getfixturevalue("pytester")
    pytester.makeconftest("""
        import pytest
        pytest_plugins = ["cassette_guard"]

        @pytest.fixture(scope="session")
        def vcr_config():
            return {"record_mode": "none", "match_on": ["method", "uri", "body"]}
    """)
    (pytester.path / "cassettes").mkdir()
    (pytester.path / "cassettes" / "test_job.yaml").write_text(CASSETTE)
    pytester.makeini("[pytest]\naddopts = --record-mode=none --block-network -p no:cacheprovider\n")


def run_inner(pytester, body: str):
    pytester.makepyfile(test_inner=textwrap.dedent("""
        import pytest
        import requests

        def send(*parts):
            for part in parts:
                requests.post("https://api.example.com/send", data={"To": "+16175550123", "Body": part})

        def job(*parts):
            \"\"\"Like a worker job: any exception becomes a retry.\"\"\"
            try:
                send(*parts)
                return "done"
            except Exception:
                return "retry"

    """) + textwrap.dedent(body))
    return pytester.runpytest_inprocess()


def test_an_unmatched_request_inside_a_job_fails_the_test(pytester):
    """Planted bug: the harness trusting the job (a refused request became a ``retry``; the test passed)."""
    result = run_inner(pytester, f"""
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 1", "part 2", "part 3") == "retry"
    """)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*a request matched nothing in the cassette (even if the code caught it)*"])


def test_an_unplayed_interaction_fails_the_test(pytester):
    """Planted bug: tests passing with part 2 never sent (``vcr.all_played`` not asserted)."""
    result = run_inner(pytester, f"""
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 1") == "done"
    """)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*has 1 unplayed interaction(s)*", "*#1 POST https://api.example.com/send*"])


def test_a_test_may_leave_interactions_unplayed_when_it_says_why(pytester):
    result = run_inner(pytester, f"""
        @pytest.mark.cassette_partly_played("the second part is only sent on a retry")
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 1") == "done"
    """)
    result.assert_outcomes(passed=1)


def test_saying_why_is_required(pytester):
    result = run_inner(pytester, f"""
        @pytest.mark.cassette_partly_played()
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 1") == "done"
    """)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*cassette_partly_played needs a reason*"])


def test_played_requests_are_in_the_order_sent(pytester):
    """Planted bug: order taken from the cassette (``vcr.requests``), not from what was sent."""
    result = run_inner(pytester, f"""
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 2", "part 1") == "done"
            assert [r.body for r in vcr.played_requests] == [
                b"To=%2B16175550123&Body=part+2", b"To=%2B16175550123&Body=part+1"]
    """)
    result.assert_outcomes(passed=1)


def test_every_cassette_match_on_body_uses_the_strict_form_matcher(pytester):
    """Planted bug: ordered_form_body written but not registered (vcrpy's parse_qs matcher in use)."""
    result = run_inner(pytester, f"""
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            requests.post("https://api.example.com/send", data=[("To", "+16175550123"), ("Body", "part 1"),
                                                                ("MediaUrl", "")])
    """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])


def test_a_failing_test_gets_no_second_report(pytester):
    result = run_inner(pytester, f"""
        @pytest.mark.vcr("{pytester.path}/cassettes/test_job.yaml")
        def test_job(vcr):
            assert job("part 9") == "done"
    """)
    result.assert_outcomes(failed=1)
