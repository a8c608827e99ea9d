"""Shared pytest fixtures: cassette location and scrubbing, settings, clients."""

import os

import pytest

pytest_plugins = ["cassette_guard", "ci_rule", "plugin_hooks", "pytester"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The feature packages of plugins/ import as bling_local_plugins.<name> (as the plugin loader loads them).
from bling.routing.plugin_loader import mount_local_plugins  # noqa: E402

mount_local_plugins(os.path.join(ROOT, "plugins"))


@pytest.fixture(autouse=True)
def _local_plugins_restored():
    """A test that loads another plugins/ folder (a copy with a probe) leaves the suite's modules in place.

    Without this, later tests would hold the classes and constants they imported from plugins/ while
    Bling ran a second copy of the same modules (an exception class no longer matching, a patch missed).
    """
    import sys

    prefix = "bling_local_plugins"
    saved = {name: module for name, module in sys.modules.items() if name == prefix or name.startswith(prefix + ".")}
    path = list(sys.modules[prefix].__path__)
    yield
    for name in [name for name in sys.modules if name.startswith(prefix + ".") and name not in saved]:
        del sys.modules[name]
    sys.modules.update(saved)
    for name, module in saved.items():  # ``from package import module`` reads the package's attribute first
        parent, _, child = name.rpartition(".")
        if parent in saved:
            setattr(saved[parent], child, module)
    sys.modules[prefix].__path__[:] = path


@pytest.fixture(scope="module")
def vcr_cassette_dir(request):
    """Keep cassettes in the top-level cassettes/<test module>/ folder."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    return os.path.join(ROOT, "cassettes", module)


@pytest.fixture
def default_cassette_name(request):
    """Name cassettes after the test, without the store engine it runs on."""
    import re

    marker = request.node.get_closest_marker("default_cassette")
    if marker is not None:
        return marker.args[0]
    name = re.sub(r"(?<=[\[-])(sqlite|postgres)(?=[\]-])", "", request.node.name)
    name = name.replace("[-", "[").replace("-]", "]").replace("--", "-").replace("[]", "")
    return name.replace("/", "-")


@pytest.fixture(scope="session")
def vcr_config():
    """Scrub credentials; match on method, full URL and body.

    Matching the body too means a cassette plays only for the exact request
    Bling must send (JSON by value; forms pair by pair, in order, blank
    values kept: tests/cassette_guard.py), so a test fails when Bling sends
    anything else.
    """
    return {
        "filter_headers": ["authorization"],
        "filter_post_data_parameters": ["client_id", "client_secret"],
        "decode_compressed_response": True,
        "record_mode": "none",
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
    }


# -- Bling wiring ----------------------------------------------------------

import falcon.testing  # noqa: E402

from bling.edge.app import create_app  # noqa: E402
from bling.services import build_services  # noqa: E402
from bling.config.settings import load_settings  # noqa: E402

from support import configured_env, make_env  # noqa: E402

POSTGRES_URL = os.environ.get("BLING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def env(store_url, tmp_path, request):
    """A complete test environment (fake credentials), once per store engine.

    A ``@pytest.mark.bling_config("...")`` marker (on the test, class or
    module: the closest wins) becomes the BLING_CONFIG file.
    """
    return configured_env(make_env(store_url), tmp_path, request)


@pytest.fixture
def settings(env):
    return load_settings(env)


class FakeClock:
    """A clock tests move by hand (retries become due when it is advanced)."""

    START = 1795608000.0  # 2026-11-25T12:00:00Z, the day the cassettes were authored

    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def services(settings, clock):
    """Real clients (replayed by cassettes), a real store (its inbox is the queue)."""
    from bling.store.core import Store

    built = build_services(settings, store=Store(settings.store_url, clock=clock),
                           entry_points=False)
    yield built
    built.store.close()


@pytest.fixture
def client(services):
    return falcon.testing.TestClient(create_app(services))


def postgres_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(POSTGRES_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=2).close()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """Each store test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bling.db'}"
    from ci_rule import require  # imported late: pytest loads ci_rule as a plugin (assertion rewriting)

    require(postgres_available(), "PostgreSQL", f"not reachable at {POSTGRES_URL}")
    return fresh_postgres(request.node.name)


_SCHEMA = f"bling_test_{os.getpid()}"


def fresh_postgres(name: str) -> str:
    """Empty Bling's tables (the host's and the features') for one test, in a schema of this test run's own.

    Each pytest process gets its own schema, so two runs on one server do
    not drop each other's tables.
    """
    import sqlalchemy as sa

    from bling.store.core import metadata
    from support import feature_tables

    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}"))
        conn.execute(sa.text(f"SET search_path TO {_SCHEMA}"))
        metadata.drop_all(conn)
        for table in feature_tables():  # the features' tables (bling_tables) live beside the host's
            table.drop(conn, checkfirst=True)
    engine.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{_SCHEMA}"


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schema():
    yield
    if postgres_available():
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg2://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {_SCHEMA} CASCADE"))
        engine.dispose()
