"""The sandbox's settings: generated credentials, fake hotlines, stand-in URLs.

``sandbox_environ`` turns the real environment into the one Bling runs
with in the sandbox. It refuses when a real credential (or an API base URL
pointing anywhere) is present, so the sandbox can never run next to a real
account, and a BLING_PUBLIC_URL that names a real deployment (its fake
texts' callbacks would go there). The generated credentials are kept in the
store (``sandbox_meta``) so the web processes, the worker and ``bling
simulate --sandbox`` agree; that table is also the store's mark that the
sandbox made it: a store with tables but without it is someone's real store
(its pending jobs would run against the fakes), and the sandbox refuses it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from urllib.parse import urlsplit

import sqlalchemy as sa

from bling.errors import ConfigError
from bling.store.core import make_engine
from bling.store.url import store_url_from

#: Set in the environment, these mean a real account is near: the sandbox refuses to start.
REAL_CREDENTIALS = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "HELPSCOUT_API_CLIENT_ID", "HELPSCOUT_API_CLIENT_SECRET",
    "HELPSCOUT_WEBHOOK_SECRET", "HELPSCOUT_APP_SECRET", "BLING_SECRET_KEY", "MOBILECOMMONS_USERNAME",
    "MOBILECOMMONS_PASSWORD", "BLING_HELPSCOUT_API_URL", "BLING_TWILIO_API_URL", "BLING_MOBILECOMMONS_API_URL",
)
#: Replaced by the sandbox's own values (a warning is logged when they were set).
REPLACED = ("BLING_MAILBOXES", "BLACKHOLE_DOMAIN")

DEFAULT_STORE = "sqlite:///bling-sandbox.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
BLACKHOLE = "sandbox.invalid"

#: The fake hotlines: (number, Help Scout mailbox id, mailbox name, ring group).
HOTLINES = (
    ("+16175550100", 1001, "Boston hotline (sandbox)", ("+16175550181", "+16175550182")),
    ("+15105550100", 1002, "Oakland hotline (sandbox)", ()),
)
#: The fake WhatsApp hotlines: (number, Help Scout mailbox id). The Boston number takes WhatsApp too, into
#: the same mailbox: BLING_MAILBOXES lists it as whatsapp:<number>:<mailbox> after its twilio: entry.
WHATSAPP_HOTLINES = (("+16175550100", 1001),)
#: Supporters whose phones the sandbox page shows at first (a WhatsApp phone's address keeps its prefix).
SUPPORTERS = ("+16175550123", "+16175550124", "whatsapp:+4915112345678")

meta = sa.Table(
    "sandbox_meta", sa.MetaData(),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

_GENERATED = {
    "TWILIO_ACCOUNT_SID": lambda: "AC" + secrets.token_hex(16),
    "TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16),
    "HELPSCOUT_API_CLIENT_ID": lambda: "sandbox-" + secrets.token_hex(8),
    "HELPSCOUT_API_CLIENT_SECRET": lambda: secrets.token_urlsafe(24),
    "HELPSCOUT_WEBHOOK_SECRET": lambda: secrets.token_urlsafe(24)[:40],
    "HELPSCOUT_APP_SECRET": lambda: secrets.token_urlsafe(24)[:40],
    "BLING_SECRET_KEY": lambda: secrets.token_urlsafe(32),
}


def refuse_real_credentials(env: dict[str, str]) -> None:
    """Stop with a clear message when anything of a real account is in ``env``."""
    present = [name for name in REAL_CREDENTIALS if env.get(name, "").strip()]
    if present:
        raise ConfigError(
            "the sandbox refuses to start while real credentials are set: unset "
            + ", ".join(present)
            + " (e.g. move .env aside). The sandbox makes up its own fake credentials.")


#: Addresses a real .env sets that would send the sandbox's traffic to a real deployment.
ADDRESSES = ("BLING_PUBLIC_URL", "BLING_SMS_FALLBACK_URL", "BLING_VOICE_FALLBACK_URL")


def refuse_real_addresses(env: dict[str, str]) -> None:
    """Stop when BLING_PUBLIC_URL (or a fallback URL) names a host by name: a real deployment's, e.g. from a real .env.

    The sandbox serves its stand-ins at its own address: loopback, ``localhost``
    or the IP address given to ``--bind``.
    """
    for name in ADDRESSES:
        value = env.get(name, "").strip()
        host = urlsplit(value).hostname or ""
        if value and host != "localhost" and not _is_ip(host):
            raise ConfigError(
                f"the sandbox refuses {name}={value!r}: that is a real deployment's address (from a real .env?), "
                f"and the sandbox's fake texts and calls would send their callbacks there. Unset {name}; "
                "`bling serve --sandbox` serves at the address given to --bind.")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def sandbox_environ(env: dict[str, str]) -> dict[str, str]:
    """Return the environment Bling runs with in the sandbox (see the module docstring)."""
    refuse_real_credentials(env)
    refuse_real_addresses(env)
    env = {k: v for k, v in env.items() if k not in REPLACED}
    store_url = env.get("BLING_STORE_URL", "").strip() or DEFAULT_STORE
    public = (env.get("BLING_PUBLIC_URL", "").strip() or DEFAULT_PUBLIC_URL).rstrip("/")
    env.update(credentials(store_url))
    env.update({
        "BLING_STORE_URL": store_url,
        "BLING_PUBLIC_URL": public,
        "BLING_HELPSCOUT_API_URL": public + "/sandbox/helpscout",
        "BLING_TWILIO_API_URL": public + "/sandbox/twilio",
        "BLACKHOLE_DOMAIN": BLACKHOLE,
        "BLING_MAILBOXES": ", ".join([f"twilio:{number}:{mailbox}" for number, mailbox, _n, _r in HOTLINES]
                                     + [f"whatsapp:{number}:{mailbox}" for number, mailbox in WHATSAPP_HOTLINES]),
    })
    if not env.get("BLING_CONFIG", "").strip():
        path = _mailbox_config()
        if path:
            env["BLING_CONFIG"] = path
    return env


def credentials(store_url: str) -> dict[str, str]:
    """The sandbox's fake credentials, made once per store and kept there."""
    engine = make_engine(store_url_from(store_url))
    try:
        _refuse_a_store_not_ours(engine)
        meta.create(engine, checkfirst=True)
        with engine.begin() as conn:
            known = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
            for name, make in _GENERATED.items():
                if name not in known:
                    known[name] = make()
                    conn.execute(sa.insert(meta).values(key=name, value=known[name]))
    finally:
        engine.dispose()
    return {name: known[name] for name in _GENERATED}


def _refuse_a_store_not_ours(engine) -> None:
    """A store with tables but no ``sandbox_meta`` was not made by the sandbox: refuse it, touching nothing."""
    tables = set(sa.inspect(engine).get_table_names())
    if not tables or meta.name in tables:
        return
    where = engine.url.render_as_string(hide_password=True)
    raise ConfigError(
        f"the sandbox refuses the store BLING_STORE_URL={where}: it already holds tables "
        f"({', '.join(sorted(tables)[:5])}{', …' if len(tables) > 5 else ''}) and was not made by the sandbox "
        f"(it has no {meta.name} table). Running there would process that store's jobs against fake APIs. "
        f"Unset BLING_STORE_URL (the sandbox uses {DEFAULT_STORE}) or give it a new, empty store.")


def _mailbox_config() -> str | None:
    """A BLING_CONFIG for the fake hotlines: a ring group of fake agent phones."""
    lines = ["# Written by the Bling sandbox: the fake hotlines' ring groups.\n"]
    for _number, mailbox, _name, ring in HOTLINES:
        if ring:
            lines.append(f"[mailboxes.{mailbox}]\nring = [{', '.join(repr(r).replace(chr(39), chr(34)) for r in ring)}]\n")
    path = os.path.join(tempfile.gettempdir(), "bling-sandbox-mailboxes.toml")
    text = "\n".join(lines)
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return path
