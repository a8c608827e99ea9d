"""Each stumble of a newcomer's first hour with the CLI, as a test (issue 14).

serve.sh's choice (sandbox / named missing settings / refused example
values), the CLI reaching a running sandbox, `simulate` without settings
and with the job's real outcome, `check` naming the routes file, bad
entries, typo'd plugin options and unreachable APIs, one line for an
unreachable store, and the small wording fixes of `jobs list` and
`sms status --failed`.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
import requests
from click.testing import CliRunner

from bling.cli.main import main
from bling.errors import ConfigError
from bling.cli.first_run import ENV_FILE, example_values, wants_sandbox
from bling.config.settings import REQUIRED, ROOT
from sandbox_support import running_sandbox, wait_for
from support import make_env

pytestmark = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])

ACCOUNT_PREFIXES = ("BLING_", "TWILIO_", "HELPSCOUT_", "MOBILECOMMONS_", "BLACKHOLE_")


def invoke(env: dict, *args: str):
    """Run `bling ARGS` with exactly ``env`` as Bling's settings (nothing else from this machine)."""
    clean = {k: None for k in os.environ if k.startswith(ACCOUNT_PREFIXES)}
    return CliRunner().invoke(main, list(args), env={**clean, **env})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when we return: connections are refused


# -- serve.sh: sandbox, partial settings, example values -------------------------------------


def test_nothing_configured_means_the_sandbox():
    assert wants_sandbox({"PATH": "/usr/bin", "BLING_STORE_URL": "sqlite:///x.db"}) is True


def test_partly_configured_names_what_is_missing_and_where_to_put_it():
    with pytest.raises(ConfigError) as refused:
        wants_sandbox({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "x"})
    message = str(refused.value)
    for name in set(REQUIRED) - {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"}:
        assert name in message
    assert str(ENV_FILE) in message and "examples/env.example" in message
    assert "remove TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN to run the sandbox" in message


def test_an_unfilled_copy_of_env_example_is_refused_by_serve_and_check(tmp_path):
    unfilled = {**example_values(), "BLING_STORE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    assert {"BLACKHOLE_DOMAIN", "BLING_MAILBOXES", "BLING_PUBLIC_URL"} <= set(unfilled)
    served = invoke(unfilled, "serve", "--sandbox-if-unconfigured", "--no-worker")
    assert served.exit_code == 1 and "Traceback" not in served.output
    assert "BLACKHOLE_DOMAIN, BLING_MAILBOXES, BLING_PUBLIC_URL still hold the example values" in served.output
    assert "BLING_PUBLIC_URL=https://bling.example.org" in served.output
    checked = invoke({**make_env(unfilled["BLING_STORE_URL"]), "BLING_PUBLIC_URL": unfilled["BLING_PUBLIC_URL"]}, "check")
    assert checked.exit_code == 1 and "BAD      BLING_PUBLIC_URL" in checked.output
    assert "BLING_PUBLIC_URL: still the example values of examples/env.example" in checked.output


def test_serve_sh_runs_the_sandbox_choice_and_scripts_bling_reads_its_settings():
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    assert "serve --sandbox-if-unconfigured" in serve and 'BLING_SANDBOX_ENV_FILE="$ROOT/.bling-sandbox.env"' in serve
    wrapper = ROOT / "scripts" / "bling"
    assert os.access(wrapper, os.X_OK) and ".bling-sandbox.env" in wrapper.read_text()
    ignored = subprocess.run(["git", "check-ignore", "-q", ".bling-sandbox.env"], cwd=ROOT)
    assert ignored.returncode == 0, ".bling-sandbox.env must be git-ignored"


def test_scripts_bling_runs_the_installed_command_and_says_when_it_is_not_installed(tmp_path):
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(ACCOUNT_PREFIXES)}
    helped = subprocess.run(["bash", str(ROOT / "scripts" / "bling"), "simulate", "sms", "--help"],
                            env={**env, "BLING_VENV": sys.prefix}, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "The supporter's phone" in helped.stdout, helped.stderr
    missing = subprocess.run(["bash", str(ROOT / "scripts" / "bling"), "check"],
                             env={**env, "BLING_VENV": str(tmp_path / "no-venv")}, capture_output=True, text=True)
    assert missing.returncode == 1 and "run scripts/serve.sh once" in missing.stderr


def test_the_written_sandbox_settings_make_every_command_reach_the_running_sandbox(tmp_path, monkeypatch):
    from bling_fakes.sandbox.serve import announce

    with running_sandbox(tmp_path) as sandbox:
        monkeypatch.setenv("BLING_SANDBOX_ENV_FILE", str(tmp_path / "sandbox.env"))
        monkeypatch.setenv("BLING_STORE_URL", sandbox.env["BLING_STORE_URL"])
        banner = announce(sandbox.url)
        assert f"{sandbox.url}/sandbox" in banner and "scripts/bling check" in banner and "To go live" in banner
        written = dict(line.removeprefix("export ").split("=", 1) for line in
                       (tmp_path / "sandbox.env").read_text().splitlines() if line.startswith("export "))
        assert written["BLING_PUBLIC_URL"] == sandbox.url and written["BLING_STORE_URL"].startswith("sqlite:////")
        monkeypatch.delenv("BLING_SANDBOX_ENV_FILE")
        monkeypatch.delenv("BLING_STORE_URL")

        checked = invoke(written, "check", "--live")
        assert checked.exit_code == 0, checked.output
        assert "SANDBOX" in checked.output and "ok       TWILIO_AUTH_TOKEN" in checked.output
        assert "ok    Help Scout webhook" in checked.output
        provisioned = invoke(written, "provision")
        assert provisioned.exit_code == 0, provisioned.output
        assert f"{sandbox.url}/bling/twilio_sms" in provisioned.output
        assert provisioned.output.rstrip().endswith("open a conversation on the /sandbox page.")
        assert invoke(written, "simulate", "sms", "--from", "+16175550126", "Hi").exit_code == 0
        listed = invoke(written, "jobs", "list")
        assert listed.exit_code == 0 and listed.output.startswith("     ID STATE")


# -- simulate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["sms", "agent-reply", "call"])
def test_simulate_help_needs_no_settings(command):
    result = invoke({}, "simulate", command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: main simulate" in result.output


def test_simulate_waits_for_the_job_and_reports_how_it_ended(tmp_path):
    with running_sandbox(tmp_path) as sandbox:
        texted = invoke(sandbox.env, "simulate", "sms", "--from", "+16175550125", "Where do I vote?")
        assert texted.exit_code == 0, texted.output
        assert "(/bling/twilio_sms): done after 1 attempt(s)" in texted.output
        conversation = texted.output.split('"conversation_id": ')[1].split(",")[0].split("}")[0]

        unknown = invoke(sandbox.env, "simulate", "agent-reply", "--conversation", "5001", "Hello")
        assert unknown.exit_code == 1 and "no conversation 5001" in unknown.output
        assert "conversation ids are on the /sandbox page" in unknown.output

        replied = invoke(sandbox.env, "simulate", "agent-reply", "--conversation", conversation, "It's on Main St.")
        assert replied.exit_code == 0, replied.output
        assert "(/bling/helpscout_webhook): done" in replied.output


def test_simulate_reports_a_dead_letter_as_a_failure(tmp_path, monkeypatch):
    from bling_fakes.simulate_wait import describe

    outcome = describe({"id": 7, "route": "/bling/helpscout_webhook", "state": "dead", "attempts": 1,
                        "last_error": "HelpScoutNotFound: no conversation 5001"}, "helpscout:thread:1", 30)
    assert outcome.failed and "DEAD LETTER" in outcome.lines[0] and "bling jobs replay 7" in outcome.lines[1]


# -- check -------------------------------------------------------------------------------------


def test_check_prints_the_routes_file_it_read(tmp_path):
    routes = tmp_path / "my-routes.toml"
    routes.write_text((ROOT / "routes.toml").read_text())
    result = invoke(make_env(f"sqlite:///{tmp_path / 'b.db'}", BLING_ROUTES=str(routes)), "check")
    assert result.exit_code == 0, result.output
    assert f"ok       {routes}:" in result.output and "routes.toml:" not in result.output.replace(str(routes), "")


def test_check_never_says_ok_for_the_entry_it_then_fails_on(tmp_path):
    result = invoke(make_env(f"sqlite:///{tmp_path / 'b.db'}", BLING_MAILBOXES="twilio:not-a-number:1"), "check")
    assert result.exit_code == 1
    assert "BAD      BLING_MAILBOXES" in result.output and "ok       BLING_MAILBOXES" not in result.output
    assert "BLING_MAILBOXES entry 1" in result.output


def test_a_typo_in_a_plugin_option_fails_check(tmp_path):
    routes = tmp_path / "routes.toml"
    routes.write_text((ROOT / "routes.toml").read_text().replace('sources = ["web"]', 'sourcse = ["web"]'))
    result = invoke(make_env(f"sqlite:///{tmp_path / 'b.db'}", BLING_ROUTES=str(routes)), "check")
    assert result.exit_code == 1
    assert f"{routes}: route /bling/helpscout_webhook: key 'options.agent_reply.sourcse'" in result.output
    assert "(known: sources)" in result.output


def test_check_live_says_an_unreachable_api_is_not_a_credentials_problem(tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}"
    env = make_env(f"sqlite:///{tmp_path / 'b.db'}", BLING_TWILIO_API_URL=dead, BLING_HELPSCOUT_API_URL=dead)
    result = invoke(env, "check", "--live")
    assert result.exit_code == 1
    live = result.output.split("Live checks", 1)[1]
    assert "FIX   Twilio API" in live and "FIX   Help Scout API" in live
    assert f"could not reach {dead}" in live and "The credentials were not checked" in live
    assert "credentials" not in live.replace("The credentials were not checked", "")


def test_a_dns_failure_counts_as_unreachable():
    from bling.ops.live_check import _unreachable

    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except OSError as cause:
            raise RuntimeError("could not reach the API") from cause
    except RuntimeError as wrapped:
        assert _unreachable(wrapped)
    assert not _unreachable(RuntimeError("HTTP 401: Authenticate"))


def test_serve_with_an_unreachable_postgresql_prints_one_line():
    env = make_env(f"postgresql://bling:hunter2@127.0.0.1:{closed_port()}/bling")
    result = invoke(env, "serve", "--no-worker")
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error")]  # and nothing else of ours
    assert "the store is unreachable: BLING_STORE_URL=postgresql://bling:***@127.0.0.1" in line
    assert "hunter2" not in result.output


# -- jobs list, sms status ---------------------------------------------------------------------


def test_jobs_list_has_a_header_and_says_when_there_is_nothing(tmp_path):
    env = make_env(f"sqlite:///{tmp_path / 'b.db'}")
    assert invoke(env, "jobs", "list").output == "no jobs\n"
    assert invoke(env, "jobs", "list", "--state", "dead").output == "no dead jobs\n"


def test_sms_status_failed_says_texts_exist_but_none_failed(tmp_path, services, env):
    from bling_local_plugins.sms.state import record_sent

    assert invoke(env, "sms", "status", "--failed").output == "no texts recorded\n"
    record_sent(services.store, "SM" + "1" * 32, 206906, "+16175550123", 1, "Hello")
    result = invoke(env, "sms", "status", "--failed")
    assert result.output == "no failed texts: every text recorded was delivered or is on its way\n"
