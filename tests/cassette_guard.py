"""Cassettes that catch a wrong request (a pytest plugin, loaded by tests/conftest.py).

Three rules, for every test that replays a cassette:

- **Form bodies match exactly.** vcrpy's own ``body`` matcher compares form
  bodies with ``parse_qs``, which drops blank values (``SmsApplicationSid=``)
  and ignores order (SMS parts sent in reverse). The ``body`` matcher here
  compares forms as ordered ``(name, value)`` pairs, blanks kept; JSON and
  other bodies are compared as vcrpy does (by value).
- **Every interaction is played.** A test whose cassette still holds an
  unplayed interaction fails at teardown, unless it is marked
  ``@pytest.mark.cassette_partly_played("why")``.
- **What was sent, in order.** ``vcr.played_requests`` lists the requests
  Bling actually sent and the cassette answered, in the order sent (vcrpy's
  ``vcr.requests`` is the cassette's content, whatever was sent).
- **An unmatched request fails the test wherever it happened.** vcrpy raises
  ``CannotOverwriteExistingCassetteException``; code that turns exceptions
  into retries (a worker job) would swallow it, so every one raised during a
  test is recorded and fails the test at teardown.

See tests/README.md.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from vcr import matchers
from vcr.errors import CannotOverwriteExistingCassetteException

FORM = "application/x-www-form-urlencoded"
PARTLY_PLAYED = "cassette_partly_played"


def _is_form(request) -> bool:
    value = request.headers.get("Content-Type", "")
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return FORM in value.lower()


def _form_pairs(body) -> list[tuple[str, str]]:
    if body is None:
        return []
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)
    return parse_qsl(text, keep_blank_values=True)


def ordered_form_body(r1, r2) -> None:
    """vcrpy ``body`` matcher: a form must match pair by pair, in order, blank values kept."""
    if not _is_form(r1):
        return matchers.body(r1, r2)
    sent, recorded = _form_pairs(matchers.read_body(r1)), _form_pairs(matchers.read_body(r2))
    if sent != recorded:
        raise AssertionError(matchers._body_diff("\n".join(f"{k}={v}" for k, v in sent),
                                                 "\n".join(f"{k}={v}" for k, v in recorded)))
    return None


def pytest_recording_configure(config, vcr) -> None:
    """Replace vcrpy's ``body`` matcher (every ``match_on`` naming ``body`` gets the strict one)."""
    vcr.register_matcher("body", ordered_form_body)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", f"{PARTLY_PLAYED}(reason): this test's cassette may keep interactions unplayed, and why")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Note a failed or skipped test, so the teardown checks do not pile on."""
    outcome = yield
    report = outcome.get_result()
    if report.when in ("setup", "call") and (report.failed or report.skipped):
        item.stash[_ALREADY_DECIDED] = True


_ALREADY_DECIDED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def vcr(vcr, request, monkeypatch):
    """pytest-recording's cassette, checked when the test ends (see the module docstring)."""
    if vcr is None:
        yield vcr
        return
    refused: list[CannotOverwriteExistingCassetteException] = []
    original_init = CannotOverwriteExistingCassetteException.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        refused.append(self)

    monkeypatch.setattr(CannotOverwriteExistingCassetteException, "__init__", recording_init)
    vcr.played_requests = []
    play_response = vcr.play_response

    def play_and_note(sent_request):
        response = play_response(sent_request)
        vcr.played_requests.append(sent_request)
        return response

    vcr.play_response = play_and_note
    yield vcr
    if request.node.stash.get(_ALREADY_DECIDED, False):
        return
    problems = unplayed_problems(vcr, request.node.get_closest_marker(PARTLY_PLAYED)) + \
        [f"a request matched nothing in the cassette (even if the code caught it):\n{error}" for error in refused]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def unplayed_problems(cassette, marker) -> list[str]:
    """Why a cassette's play counts fail the test (empty when they do not)."""
    if marker is not None:
        if not (marker.args and str(marker.args[0]).strip()):
            return [f"@pytest.mark.{PARTLY_PLAYED} needs a reason"]
        return []
    unplayed = [f"  #{index} {request.method} {request.uri}" for index, request in enumerate(cassette.requests)
                if not cassette.play_counts[index]]
    if not unplayed:
        return []
    return [f"cassette {cassette._path} has {len(unplayed)} unplayed interaction(s); Bling never sent:\n"
            + "\n".join(unplayed)
            + f"\n(mark the test @pytest.mark.{PARTLY_PLAYED}('why') if that is intended)"]
