"""SMS: supporters' texts into Help Scout, agents' replies back, opt-outs, delivery status."""

from bling.hookspecs import hookimpl
from bling.declarations import PeriodicTask, Transport

#: Modules that are plugins in their own right (named in routes.toml chains).
PLUGINS = ("inbound_sms", "opt_out", "after_hours", "autoreply", "sms_fallback", "agent_reply",
           "agent_started", "delivery_status", "twilio_transport")

#: How often texts Twilio has but Bling never heard of are looked for.
RECONCILE_EVERY = 600.0


@hookimpl
def bling_transports():
    # twilio:<number>:<mailbox id>: a Twilio phone number's SMS and MMS (the calls feature uses its number too)
    return [Transport("twilio", address="phone", channel="SMS")]


@hookimpl
def bling_tables():
    from .tables import TABLES

    return list(TABLES)


@hookimpl
def bling_mailbox_options():
    from .options import SmsOptions

    return SmsOptions


@hookimpl
def bling_periodic_tasks():
    from .reconcile import reconcile

    return [PeriodicTask("reconcile", RECONCILE_EVERY, reconcile)]


@hookimpl
def bling_commands(cli):
    from .commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)
