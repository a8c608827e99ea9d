"""Build the long-lived objects a process shares: store, clients, chains."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pluggy

from bling.errors import ConfigError
from bling.jobs import pacing
from bling.lazy_modules import BuiltOnFirstUse
from bling.routing.chains import Chain, compile_chains
from bling.clients.helpscout import HelpScoutClient, HelpScoutRateLimited
from bling.ops.metrics import Metrics, record_rate_limit_wait
from bling.routing.plugin_loader import PluginInfo, load_plugins
from bling.routing.routes import load_routes
from bling.store.core import Store
from bling.store.plugin_tables import declared_tables
from bling.clients.twilio_api import TwilioGateway

if TYPE_CHECKING:
    from bling.config.settings import Settings

#: Keep Bling's own spending under this share of Help Scout's per-minute limit.
HELPSCOUT_BUDGET_SHARE = 0.8
#: Assumed limit until Help Scout's headers say otherwise (the lowest plan).
HELPSCOUT_DEFAULT_LIMIT = 200


class StoreTokenCache:
    """The Help Scout token, shared by every process through the store."""

    def __init__(self, store: Store, service: str = "helpscout"):
        self.store, self.service = store, service

    def get(self):
        return self.store.token(self.service)

    def put(self, token: str, expires_at: float) -> None:
        self.store.put_token(self.service, token, expires_at)

    def invalidate(self, token: str) -> None:
        self.store.drop_token(self.service, token)


class StoreBudget:
    """Help Scout's per-account rate limit, paced across processes."""

    def __init__(self, store: Store, service: str = "helpscout"):
        self.store, self.service = store, service

    def acquire(self, cost: int) -> None:
        """Take ``cost`` units; a worker's paced job waits for them, anything else is told when to retry."""
        while True:
            wait = self.store.take_budget(self.service, cost, HELPSCOUT_BUDGET_SHARE, HELPSCOUT_DEFAULT_LIMIT)
            if wait <= 0:
                return
            record_rate_limit_wait(self.service, wait)
            if not pacing.wait(wait):
                raise HelpScoutRateLimited(wait, f"Bling's Help Scout budget is spent; next slot in {wait:.1f}s")

    def observe(self, limit, remaining, retry_after) -> None:
        self.store.observe_budget(self.service, limit, remaining, retry_after, HELPSCOUT_DEFAULT_LIMIT)


@dataclass
class Services:
    """What every request and job of this process shares."""

    settings: Settings
    store: Store
    helpscout: HelpScoutClient  # or a fake with the same methods (tests, sandbox)
    twilio: TwilioGateway
    plugin_manager: pluggy.PluginManager
    plugins: dict[str, PluginInfo]
    chains: list[Chain]
    metrics: Metrics = field(default_factory=Metrics)
    _by_name: dict[str, Chain] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name = {chain.route.name: chain for chain in self.chains}  # chains are fixed after start-up

    @property
    def chains_by_path(self) -> dict[str, Chain]:
        return {chain.route.path: chain for chain in self.chains}

    def chain_named(self, name: str) -> Chain:
        """The chain of the route called ``name`` in routes.toml; ConfigError naming the file if none."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise ConfigError(f"{self.settings.routes_path}: no route named {name!r} (known: {known})") from None


def build_services(settings, *, store=None, helpscout=None, twilio=None,
                   entry_points: bool = True, schema_ready: bool = False) -> Services:
    """Wire everything from settings; fakes may be passed in (tests, sandbox).

    ``schema_ready``: the store's tables were created by the process that started this one
    (``Store``); a web process forked by ``bling serve`` only registers them.
    """
    pm, infos = load_plugins(settings.plugins_dir, settings.load_plugins, entry_points=entry_points)
    chains = compile_chains(load_routes(settings.routes_path), pm, infos, settings.routes_path)
    tables = declared_tables(pm)  # the features' own tables (bling_tables), beside the host's
    if store is None:
        store = Store(settings.store_url, tables=tables, schema_ready=schema_ready)
    else:
        store.add_tables(tables)
    from bling.ops.health import ApiRecorder, instrumented_session, instrumented_twilio_http_client
    from bling.ops.logs import add_secrets_of

    add_secrets_of(settings)  # never logged, whoever logs them
    recorder = ApiRecorder(store)  # /metrics and /healthz learn of every API call
    # Built by their first call: a web process never calls out, so it never loads requests (bling/lazy_modules.py).
    if helpscout is None:
        helpscout = BuiltOnFirstUse(lambda: HelpScoutClient(
            settings.helpscout_client_id, settings.helpscout_client_secret, base_url=settings.helpscout_api_url,
            token_cache=StoreTokenCache(store), budget=StoreBudget(store),
            session=instrumented_session("helpscout", recorder)))
    if twilio is None:
        twilio = BuiltOnFirstUse(lambda: TwilioGateway(
            settings.twilio_account_sid, settings.twilio_auth_token, base_url=settings.twilio_api_url,
            http_client=instrumented_twilio_http_client(recorder)))
    return Services(settings, store, helpscout, twilio, pm, infos, chains)
