"""``bling simulate sms|agent-reply|call``: signed Twilio and Help Scout requests to a running Bling."""

from __future__ import annotations

import os

import click

from .cli import _settings_or_exit, main
from .simulate import DEFAULT_URL, CallOptions, Target


@main.group()
@click.option("--url", default=DEFAULT_URL, show_default=True, help="Where Bling listens.")
@click.option("--sandbox", is_flag=True, help="Sign with the sandbox's generated credentials (bling serve --sandbox).")
@click.pass_context
def simulate(ctx: click.Context, url: str, sandbox: bool) -> None:
    """Send Bling correctly signed Twilio / Help Scout requests (no tunnel needed).

    Requests are signed for BLING_PUBLIC_URL (or --url when it is not set) and
    sent to --url. Bling then acts on them for real: outside the sandbox, its
    replies go to the real Twilio and Help Scout.
    """
    if sandbox:
        os.environ["BLING_SANDBOX"] = "1"
        os.environ.setdefault("BLING_PUBLIC_URL", url)  # the sandbox signs and checks against its own URL
    settings = _settings_or_exit()
    ctx.obj = (settings, Target.from_settings(settings, url))


def _hotline(settings, to: str | None) -> str:
    from .phones import to_e164

    if to:
        number = to_e164(to)
        if number is None:
            raise click.BadParameter(f"{to!r} is not a phone number", param_hint="--to")
        return number
    numbers = [m.address for m in settings.mailboxes if m.transport == "twilio"]
    if not numbers:
        raise click.ClickException("BLING_MAILBOXES has no twilio: hotline; pass --to")
    return numbers[0]


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
    from .simulate import send_sms

    settings, target = obj
    sid, response = send_sms(target, from_, _hotline(settings, to), text)
    click.echo(f"sent {sid} from {from_}")
    _report(response)


@simulate.command("agent-reply")
@click.option("--conversation", type=int, required=True, help="The Help Scout conversation id.")
@click.option("--to", "phone", required=True, help="The supporter's phone the reply goes to.")
@click.option("--mailbox", type=int, default=None, help="The mailbox id (default: the first configured).")
@click.option("--customer-id", type=int, default=None, help="The Help Scout customer id, if known.")
@click.argument("text")
@click.pass_obj
def simulate_agent_reply(obj, conversation: int, phone: str, mailbox: int | None, customer_id: int | None,
                         text: str) -> None:
    """An agent replies TEXT in a Help Scout conversation (Bling texts it to the supporter)."""
    from .phones import blackhole_email, to_e164
    from .simulate import agent_reply_payload, send_agent_reply

    settings, target = obj
    number = to_e164(phone)
    if number is None:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--to")
    mailbox_id = mailbox or settings.mailboxes[0].mailbox_id
    customer = {"id": customer_id, "email": blackhole_email(number, settings.blackhole_domain), "phone": number}
    payload = agent_reply_payload(conversation, mailbox_id, {k: v for k, v in customer.items() if v is not None}, text)
    click.echo(f"agent reply thread {payload['_embedded']['threads'][0]['id']} in conversation {conversation}")
    _report(send_agent_reply(target, payload))


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
    from .provision import CALL_STATUS_PATHS, route_paths
    from .simulate import simulate_call as run

    settings, target = obj
    paths = route_paths(settings)
    status = next((target.public(p) for p in CALL_STATUS_PATHS if p in paths), None)
    options = CallOptions(answer=answer, speech=speech, digits=digits, status_callback=status)
    log = run(target, from_, _hotline(settings, to), options, on_line=click.echo)
    if any(code >= 400 for _url, code in log.requests):
        raise click.ClickException("Bling refused a request of the call (see above)")
