"""Mobile Commons: a second SMS transport, fed by polling its API."""

from bling.hookspecs import hookimpl
from bling.declarations import PeriodicTask, Setting, Transport

from .events import bling_schemas  # noqa: F401  (the loader's payloads; its route takes no HTTP request)

#: Modules that are plugins in their own right.
PLUGINS = ("mobilecommons_transport",)

#: How often `bling worker` loads new messages (``bling mobilecommons load`` does it by hand).
LOAD_EVERY = 300.0


def _uses_mobilecommons(settings) -> bool:
    return any(m.transport == "mobilecommons" for m in settings.mailboxes)


def _url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


@hookimpl
def bling_transports():
    # mobilecommons:<campaign id>:<mailbox id>
    return [Transport("mobilecommons", address="id", channel="SMS")]


@hookimpl
def bling_settings():
    needed = "needed when BLING_MAILBOXES has mobilecommons: entries"
    return [
        Setting("MOBILECOMMONS_USERNAME", "mobilecommons_username", "", f"Mobile Commons API user ({needed})",
                required_if=_uses_mobilecommons),
        Setting("MOBILECOMMONS_PASSWORD", "mobilecommons_password", "", "Mobile Commons API password", secret=True,
                required_if=_uses_mobilecommons),
        Setting("BLING_MOBILECOMMONS_API_URL", "mobilecommons_api_url", "https://secure.mcommons.com/api/",
                "Mobile Commons API base URL", parse=_url),
    ]


@hookimpl
def bling_periodic_tasks():
    from .loader import scheduled_load

    return [PeriodicTask("mobilecommons", LOAD_EVERY, scheduled_load)]


@hookimpl
def bling_commands(cli):
    from .commands import mobilecommons

    cli.add_command(mobilecommons)
