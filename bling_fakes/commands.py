"""``bling simulate sms|agent-reply|call``: signed Twilio and Help Scout requests to a running Bling.

The ``bling`` group imports this module only when ``simulate`` is used
(bling/cli/sandbox.py), so the commands that serve production never load the fakes.
"""

from __future__ import annotations

import os

import click

from bling.cli.base import settings_or_exit
from bling_fakes.simulate import DEFAULT_URL, CallOptions, Target


@click.group()
@click.option("--url", default=None, help=f"Where Bling listens (default: the sandbox's URL in the sandbox, else {DEFAULT_URL}).")
@click.option("--sandbox", is_flag=True, help="Sign with the sandbox's generated credentials (bling serve --sandbox).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for Bling's job and report how it ended (needs the store, BLING_STORE_URL).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the job.")
@click.pass_context
def simulate(ctx: click.Context, url: str | None, sandbox: bool, wait: bool, timeout: float) -> None:
    """Send Bling correctly signed Twilio / Help Scout requests (no tunnel needed).

    Requests are signed for BLING_PUBLIC_URL (or --url when it is not set) and
    sent to --url. Bling then acts on them for real: outside the sandbox, its
    replies go to the real Twilio and Help Scout. Then the command waits for
    Bling's job and says whether it was done or became a dead letter.
    """
    if sandbox:
        os.environ["BLING_SANDBOX"] = "1"
        os.environ.setdefault("BLING_PUBLIC_URL", url or DEFAULT_URL)  # the sandbox signs and checks against its own URL
    ctx.obj = _Simulation(url, wait, timeout)  # settings are read when a command runs, so --help needs none


class _Simulation:
    """What every simulate command needs, loaded on first use."""

    def __init__(self, url: str | None, wait: bool, timeout: float):
        self.url, self.wait, self.timeout = url, wait, timeout
        self._loaded = None

    def load(self):
        if self._loaded is None:
            settings = settings_or_exit()
            url = self.url or (settings.public_base() if settings.sandbox else DEFAULT_URL)
            self._loaded = (settings, Target.from_settings(settings, url))
        return self._loaded

    def report_job(self, key: str) -> None:
        """Wait for the job stored under ``key`` and print its real outcome; exit 1 if it failed."""
        if not self.wait:
            return
        from bling_fakes.simulate_wait import wait_for_job
        from bling.store.core import Store

        settings, _target = self.load()
        store = Store(settings.store_url)
        try:
            outcome = wait_for_job(store, key, self.timeout)
        finally:
            store.close()
        for line in outcome.lines:
            click.echo(line)
        if outcome.failed:
            raise click.ClickException("the event did not get through (see above)")

    def report_call_jobs(self, call_sid: str) -> None:
        """The jobs of one call (its steps, its recording): how each ended; exit 1 if one is a dead letter."""
        if not self.wait:
            return
        from bling_fakes.simulate_wait import wait_for_jobs
        from bling.store.core import Store

        settings, _target = self.load()
        store = Store(settings.store_url)
        try:
            keys = [row["key"] for row in reversed(store.rows(limit=200))
                    if call_sid in row["key"] or call_sid in (row["payload"] or "")]
            outcomes = wait_for_jobs(store, keys, self.timeout)
        finally:
            store.close()
        for outcome in outcomes:
            for line in outcome.lines:
                click.echo(line)
        if any(o.state == "dead" for o in outcomes):
            raise click.ClickException("a job of the call became a dead letter (see above)")


def _hotline(settings, to: str | None) -> str:
    from bling.phones import to_e164

    if to:
        number = to_e164(to)
        if number is None:
            raise click.BadParameter(f"{to!r} is not a phone number", param_hint="--to")
        return number
    numbers = [m.address for m in settings.mailboxes if m.transport == "twilio"]
    if not numbers:
        raise click.ClickException("BLING_MAILBOXES has no twilio: hotline; pass --to")
    return numbers[0]


def _path(settings, name: str) -> str:
    """The path of the route named ``name`` in Bling's routes.toml (Twilio and Help Scout would be given it)."""
    from bling.errors import ConfigError
    from bling.ops.provision import route_table
    from bling.routing.urls import route_path

    try:
        return route_path(route_table(settings), name)
    except ConfigError as ex:
        raise click.ClickException(str(ex)) from None


def _report(response) -> None:
    click.echo(f"Bling answered {response.status_code}: {response.text[:300] or '(empty)'}")
    if response.status_code >= 400:
        raise click.ClickException("Bling refused the request (see its answer above)")


@simulate.command("sms")
@click.option("--from", "from_", required=True, help="The supporter's phone, e.g. +16175550123.")
@click.option("--to", default=None, help="The hotline number (default: the first one configured).")
@click.argument("text")
@click.pass_obj
def simulate_sms(obj, from_: str, to: str | None, text: str) -> None:
    """A supporter texts TEXT to the hotline."""
    from bling.ops.provision import SMS_ROUTE
    from bling_fakes.simulate import send_sms

    settings, target = obj.load()
    sid, response = send_sms(target, from_, _hotline(settings, to), text, _path(settings, SMS_ROUTE))
    click.echo(f"sent {sid} from {from_}")
    _report(response)
    obj.report_job(f"twilio:sms:{sid}")


@simulate.command("agent-reply")
@click.option("--conversation", type=int, required=True, help="The Help Scout conversation id (in the sandbox: a number on its page).")
@click.option("--to", "phone", default=None, help="The supporter's phone the reply goes to (not needed in the sandbox).")
@click.option("--mailbox", type=int, default=None, help="The mailbox id (default: the first configured).")
@click.option("--customer-id", type=int, default=None, help="The Help Scout customer id, if known.")
@click.argument("text")
@click.pass_obj
def simulate_agent_reply(obj, conversation: int, phone: str | None, mailbox: int | None, customer_id: int | None,
                         text: str) -> None:
    """An agent replies TEXT in a Help Scout conversation (Bling texts it to the supporter).

    In the sandbox the reply is added to the fake Help Scout's conversation,
    which then calls Bling's webhook, exactly as the page's "Reply as agent".
    """
    from bling.phones import blackhole_email, to_e164
    from bling.ops.provision import WEBHOOK_ROUTE
    from bling_fakes.simulate import agent_reply_payload, send_agent_reply

    settings, target = obj.load()
    if settings.sandbox:
        thread_id = _sandbox_reply(target, conversation, text)
        obj.report_job(f"helpscout:thread:{thread_id}")
        return
    if not phone:
        raise click.UsageError("--to (the supporter's phone) is needed outside the sandbox")
    number = to_e164(phone)
    if number is None:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--to")
    mailbox_id = mailbox or settings.mailboxes[0].mailbox_id
    customer = {"id": customer_id, "email": blackhole_email(number, settings.blackhole_domain), "phone": number}
    payload = agent_reply_payload(conversation, mailbox_id, {k: v for k, v in customer.items() if v is not None}, text)
    thread_id = payload["_embedded"]["threads"][0]["id"]
    click.echo(f"agent reply thread {thread_id} in conversation {conversation}")
    _report(send_agent_reply(target, payload, _path(settings, WEBHOOK_ROUTE)))
    obj.report_job(f"helpscout:thread:{thread_id}")


def _sandbox_reply(target, conversation: int, text: str) -> int:
    """Reply through the sandbox's fake Help Scout (its page action); return the new thread's id."""
    import requests

    try:
        response = requests.post(f"{target.url}/sandbox/actions/reply", json={"conversation": conversation, "body": text},
                                 timeout=30)
    except requests.RequestException as ex:
        raise click.ClickException(f"the sandbox at {target.url} does not answer ({type(ex).__name__}); is it running?") from None
    answer = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise click.ClickException(f"the sandbox refused: {answer.get('error') or response.status_code}"
                                   " (conversation ids are on the /sandbox page)")
    click.echo(f"agent reply thread {answer['thread_id']} in sandbox conversation {conversation}")
    for line in answer.get("deliveries", []):
        click.echo(f"  {line}")
    return answer["thread_id"]


@simulate.command("call")
@click.option("--from", "from_", required=True, help="The caller's phone.")
@click.option("--to", default=None, help="The hotline number (default: the first one configured).")
@click.option("--answer", type=click.Choice(["no-answer", "answered", "busy", "failed"]), default="no-answer",
              show_default=True, help="What the ring group does.")
@click.option("--say", "speech", default="Hello, this is a test voicemail.", show_default=True,
              help="What the caller says in a voicemail (its transcription).")
@click.option("--digits", default="1", show_default=True, help="Keys pressed at a <Gather>.")
@click.pass_obj
def simulate_call(obj, from_: str, to: str | None, answer: str, speech: str, digits: str) -> None:
    """A supporter calls the hotline; the TwiML Bling answers is followed like Twilio would."""
    from bling.ops.provision import CALL_STATUS_ROUTES, VOICE_ROUTE, route_table
    from bling.routing.urls import find_route
    from bling_fakes.simulate import simulate_call as run

    settings, target = obj.load()
    if settings.sandbox:  # the fake Twilio must know the call: it is asked about it and its recording later
        call_sid = _sandbox_call(target, from_, _hotline(settings, to), speech, answer)
    else:
        routes = route_table(settings)
        status = next((target.public(route.path) for name in CALL_STATUS_ROUTES
                       if (route := find_route(routes, name)) is not None), None)
        options = CallOptions(answer=answer, speech=speech, digits=digits, status_callback=status,
                              voice_path=_path(settings, VOICE_ROUTE))
        log = run(target, from_, _hotline(settings, to), options, on_line=click.echo)
        if any(code >= 400 for _url, code in log.requests):
            raise click.ClickException("Bling refused a request of the call (see above)")
        call_sid = log.call_sid
    obj.report_call_jobs(call_sid)


def _sandbox_call(target, from_: str, to: str, speech: str, answer: str) -> str:
    """Call through the sandbox's fake Twilio (its page action); return the call's sid."""
    import requests

    try:
        response = requests.post(f"{target.url}/sandbox/actions/call", timeout=120,
                                 json={"from": from_, "to": to, "speech": speech, "answer": answer})
    except requests.RequestException as ex:
        raise click.ClickException(f"the sandbox at {target.url} does not answer ({type(ex).__name__}); is it running?") from None
    answer_json = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise click.ClickException(f"the sandbox refused: {answer_json.get('error') or response.status_code}")
    for line in answer_json.get("lines", []):
        click.echo(line)
    return answer_json["sid"]
