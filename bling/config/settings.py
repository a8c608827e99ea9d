"""Settings read once at start-up from the environment.

Names are the original Bling's, so an existing deployment's environment
works unchanged; new ones start with ``BLING_``. A missing or malformed
setting raises ConfigError naming every variable at fault, before any
request is served.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bling.errors import ConfigError
from bling.declarations import Setting
from bling.config.mailbox_options import MailboxOptions, load_mailbox_options
from bling.routing.plugin_loader import load_plugins
from bling.config.mailboxes import Mailbox, declared_transports, parse_mailboxes
from bling.store.url import store_url_from

ROOT = Path(__file__).resolve().parents[2]

#: Variables without which Bling cannot talk to anyone, with their purpose.
REQUIRED = {
    "HELPSCOUT_API_CLIENT_ID": "Help Scout app id (Your Profile > My Apps)",
    "HELPSCOUT_API_CLIENT_SECRET": "Help Scout app secret",
    "HELPSCOUT_WEBHOOK_SECRET": "secret of the Help Scout webhook (40 characters or fewer)",
    "TWILIO_ACCOUNT_SID": "Twilio account SID (AC…)",
    "TWILIO_AUTH_TOKEN": "Twilio primary auth token",
    "BLACKHOLE_DOMAIN": "domain for supporters' stand-in e-mails (<digits>@domain); never change it later",
    "BLING_MAILBOXES": "hotlines, e.g. twilio:+16175550100:206906",
}

#: The host's optional variables, their defaults and purpose (docs/configuration.md lists these;
#: plugins declare their own through ``bling_settings``).
OPTIONAL = {
    "BLING_PUBLIC_URL": ("", "external base URL; Twilio signatures and callback URLs use it (`bling serve` needs it)"),
    "BLING_HELPSCOUT_API_URL": ("https://api.helpscout.net", "Help Scout API base URL"),
    "BLING_TWILIO_API_URL": ("https://api.twilio.com", "Twilio API base URL"),
    "BLING_STORE_URL": ("sqlite:///bling.db", "state and queue: SQLite file or postgresql://…"),
    "BLING_CONFIG": ("", "optional TOML file of per-mailbox settings"),
    "BLING_ROUTES": (str(ROOT / "routes.toml"), "the route table"),
    "BLING_PLUGINS_DIR": (str(ROOT / "plugins"), "folder of local plugins"),
    "BLING_MAX_BODY_BYTES": ("262144", "largest webhook body accepted"),
    "BLING_LOAD_PLUGINS": ("", "comma-separated allowlist of installed plugin packages (empty: all)"),
    "BLING_SANDBOX": ("", "run against built-in fake Twilio and Help Scout (set by `bling serve --sandbox`)"),
    "BLING_SMS_FALLBACK_URL": ("", "the numbers' SMS fallback URL for `bling provision` (default: Bling's own)"),
    "BLING_VOICE_FALLBACK_URL": ("", "the numbers' voice fallback URL for `bling provision`"),
    "BLING_HEALTH_MAX_WAIT": ("600", "seconds due work may wait with no worker heartbeat before /healthz is 503"),
    "BLING_CONNECTION_SECONDS": ("30", "longest a client connection may last (headers, body and answer): slow clients are cut off"),
}


@dataclass
class Settings:
    """Everything Bling needs to run, validated."""

    helpscout_client_id: str
    helpscout_client_secret: str
    helpscout_webhook_secret: str
    twilio_account_sid: str
    twilio_auth_token: str
    blackhole_domain: str
    mailboxes: list[Mailbox]
    public_url: str = ""
    helpscout_api_url: str = "https://api.helpscout.net"
    twilio_api_url: str = "https://api.twilio.com"
    store_url: str = "sqlite:///bling.db"
    routes_path: str = str(ROOT / "routes.toml")
    plugins_dir: str = str(ROOT / "plugins")
    max_body_bytes: int = 262144
    load_plugins: tuple[str, ...] | None = None
    default_options: MailboxOptions = field(default_factory=MailboxOptions)
    mailbox_options: dict[int, MailboxOptions] = field(default_factory=dict)
    sandbox: bool = False  # BLING_SANDBOX: fake accounts and stand-ins (bling_fakes/sandbox/)
    #: the plugins' settings (``bling_settings``), by field name; read as ``settings.<field>``
    declared: dict[str, object] = field(default_factory=dict, repr=False)
    #: the fields of ``declared`` that are secret (never logged)
    declared_secrets: tuple[str, ...] = ()

    def __getattr__(self, name: str):
        declared = self.__dict__.get("declared")
        if declared is not None and name in declared:
            return declared[name]
        raise AttributeError(f"Settings has no {name!r} (neither the host nor a loaded plugin declares it)")

    def mailbox_for(self, transport: str, address: str) -> Mailbox | None:
        """Return the mailbox fed by this transport address, if any."""
        for mailbox in self.mailboxes:
            if mailbox.transport == transport and mailbox.address == address:
                return mailbox
        return None

    def mailbox_by_id(self, mailbox_id: int | None) -> Mailbox | None:
        """Return the configured mailbox with this Help Scout id, if any: the first entry listed for it.

        That entry is the mailbox's default channel: agent replies go on it
        unless the supporter last wrote on another (``bling/store/supporters.py``),
        and Call back dials from its number.
        """
        for mailbox in self.mailboxes:
            if mailbox.mailbox_id == mailbox_id:
                return mailbox
        return None

    def options(self, mailbox: Mailbox | int) -> MailboxOptions:
        """Return the per-mailbox options (BLING_CONFIG), defaults filled in."""
        mailbox_id = mailbox if isinstance(mailbox, int) else mailbox.mailbox_id
        return self.mailbox_options.get(mailbox_id, self.default_options)

    def secret_values(self) -> list[str]:
        """Every secret this process knows: the host's credentials and plugins' ``secret=True`` settings."""
        host = [self.twilio_auth_token, self.helpscout_client_secret, self.helpscout_webhook_secret]
        return [value for value in host + [self.declared.get(field) for field in self.declared_secrets]
                if isinstance(value, str) and value]

    def public_base(self) -> str:
        """Return the external base URL without a trailing slash."""
        return self.public_url.rstrip("/")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default os.environ) or raise ConfigError."""
    env = dict(os.environ if environ is None else environ)
    # With BLING_SANDBOX, ``env`` is already the sandbox's (fake credentials, stand-in URLs): the code that
    # starts the sandbox makes it (bling_fakes/sandbox/config.py) before calling here, so the host never
    # imports the fakes.
    sandbox = bool(env.get("BLING_SANDBOX", "").strip())
    problems = [
        f"{name} is not set ({purpose})"
        for name, purpose in REQUIRED.items()
        if not env.get(name, "").strip()
    ]
    if problems:
        hint = ("\n(BLING_SANDBOX is set: the sandbox supplies these when started by `bling serve --sandbox` "
                "or a `bling` command)") if sandbox else ""
        raise ConfigError("missing settings:\n  " + "\n  ".join(problems) + hint)

    def opt(name: str) -> str:
        return env.get(name, "").strip() or OPTIONAL[name][0]

    allow = plugin_allowlist(env)
    plugins = load_plugins(opt("BLING_PLUGINS_DIR"), allow)[0]
    mailboxes = parse_mailboxes(env["BLING_MAILBOXES"], declared_transports(plugins))  # plugins declare transports
    public_url = opt("BLING_PUBLIC_URL")
    for name in ("BLING_PUBLIC_URL", "BLING_HELPSCOUT_API_URL", "BLING_TWILIO_API_URL"):
        _check_url(name, opt(name))
    try:
        max_body = int(opt("BLING_MAX_BODY_BYTES"))
    except ValueError:
        raise ConfigError("BLING_MAX_BODY_BYTES: not a whole number of bytes") from None
    defaults, per_mailbox = load_mailbox_options(opt("BLING_CONFIG") or None, option_schemas(plugins))
    settings = Settings(
        helpscout_client_id=env["HELPSCOUT_API_CLIENT_ID"].strip(),
        helpscout_client_secret=env["HELPSCOUT_API_CLIENT_SECRET"].strip(),
        helpscout_webhook_secret=env["HELPSCOUT_WEBHOOK_SECRET"].strip(),
        twilio_account_sid=env["TWILIO_ACCOUNT_SID"].strip(),
        twilio_auth_token=env["TWILIO_AUTH_TOKEN"].strip(),
        blackhole_domain=env["BLACKHOLE_DOMAIN"].strip().lstrip("@"),
        mailboxes=mailboxes,
        public_url=public_url,
        helpscout_api_url=opt("BLING_HELPSCOUT_API_URL"),
        twilio_api_url=opt("BLING_TWILIO_API_URL"),
        store_url=store_url_from(opt("BLING_STORE_URL")),
        routes_path=opt("BLING_ROUTES"),
        plugins_dir=opt("BLING_PLUGINS_DIR"),
        max_body_bytes=max_body,
        load_plugins=allow,
        default_options=defaults,
        mailbox_options=per_mailbox,
        sandbox=sandbox,
    )
    declared = declared_settings(plugins)
    _read_declared(declared, env, settings)
    settings.declared_secrets = tuple(s.field for s in declared if s.secret)
    return settings


#: Why serving needs BLING_PUBLIC_URL (``bling serve`` and ``bling check`` say it).
PUBLIC_URL_NEEDED = (
    "BLING_PUBLIC_URL is not set: Bling must know its own external URL to serve. Without it the Twilio "
    "signature is checked against the Host header the caller chose, so a request signed for another deployment "
    "on the same Twilio account would verify, and Call back links would point wherever that header says. "
    "Set it to the https:// address Twilio and Help Scout call, e.g. https://bling.example.org")


def require_public_url(settings: Settings) -> None:
    """Refuse to serve for real without BLING_PUBLIC_URL (the sandbox sets its own; tests build apps directly)."""
    if not settings.public_url and not settings.sandbox:
        raise ConfigError(PUBLIC_URL_NEEDED)


def route_table_paths(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (routes.toml path, plugins folder): needs no credentials."""
    env = os.environ if environ is None else environ
    routes = env.get("BLING_ROUTES", "").strip() or OPTIONAL["BLING_ROUTES"][0]
    plugins = env.get("BLING_PLUGINS_DIR", "").strip() or OPTIONAL["BLING_PLUGINS_DIR"][0]
    return routes, plugins


def _check_url(name: str, value: str) -> None:
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: {value!r} is not an http(s) URL")


def declared_settings(plugin_manager) -> list[Setting]:
    """Every loaded plugin's settings (``bling_settings``); a name declared twice stops start-up."""
    seen: dict[str, Setting] = {}
    for declared in plugin_manager.hook.bling_settings():
        for setting in declared or ():
            if setting.name in seen or setting.name in REQUIRED or setting.name in OPTIONAL:
                raise ConfigError(f"{setting.name}: declared twice (by the host or two plugins)")
            seen[setting.name] = setting
    return list(seen.values())


def option_schemas(plugin_manager) -> list:
    """Every loaded plugin's per-mailbox option schema (``bling_mailbox_options``)."""
    return [schema for schema in plugin_manager.hook.bling_mailbox_options() if schema is not None]


def _read_declared(declared: list[Setting], env: dict[str, str], settings: Settings) -> None:
    """Parse the plugins' settings into ``settings.declared``; then check the ones ``required_if`` them."""
    values: dict[str, object] = {}
    for setting in declared:
        raw = env.get(setting.name, "").strip()
        try:
            values[setting.field] = setting.parse(raw or setting.default)
        except ValueError as ex:
            raise ConfigError(f"{setting.name}: {ex}") from None
    settings.declared = values
    missing = [s.name for s in declared
               if s.required_if is not None and not env.get(s.name, "").strip() and s.required_if(settings)]
    if missing:
        raise ConfigError("missing settings:\n  " + "\n  ".join(
            f"{s.name} is not set ({s.purpose})" for s in declared if s.name in missing))


def plugin_allowlist(environ: dict[str, str] | None = None) -> tuple[str, ...] | None:
    """BLING_LOAD_PLUGINS as a tuple, or None (every installed plugin)."""
    env = os.environ if environ is None else environ
    allow = tuple(p.strip() for p in env.get("BLING_LOAD_PLUGINS", "").split(",") if p.strip())
    return allow or None
