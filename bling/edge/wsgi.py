"""WSGI entry point and the gunicorn runner behind ``bling serve``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


def application_factory(schema_ready: bool = False):
    """Build the app from the environment (once per gunicorn worker, after fork).

    ``schema_ready``: the store's tables exist (``bling serve`` created them before forking;
    ``served_application_factory``), so this process does not look them over again.
    """
    from bling.edge.app import create_app
    from bling.services import build_services
    from bling.config.settings import load_settings, require_public_url

    settings = load_settings()
    require_public_url(settings)
    return create_app(build_services(settings, schema_ready=schema_ready))


def served_application_factory():
    """The app factory of ``bling serve``'s web processes: it built the services, so the schema is ready."""
    return application_factory(schema_ready=True)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, app_factory=application_factory):
        self.options, self.app_factory = options, app_factory
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app_factory()


#: gunicorn's request limits, stated here so they are visible: a request line, header count and header size
#: no webhook comes near (Twilio's signed callback URLs are the longest lines Bling sees).
REQUEST_LIMITS = {"limit_request_line": 4094, "limit_request_fields": 100, "limit_request_field_size": 8190}


def run_gunicorn(bind: str, workers: int, threads: int = 1, app_factory=application_factory) -> None:
    """Run gunicorn in this process until it is stopped.

    Each web process builds its app with ``app_factory`` after the fork
    (``bling serve --sandbox`` passes the sandbox's, which wraps this
    module's: the production factory never imports the fakes).

    Web processes use gevent (bling/edge/web_worker.py): each of up to
    ``worker_connections`` connections per process is a greenlet, so slow
    or stalled clients cannot stop the webhooks. ``threads`` is kept for
    callers of the sync worker era and no longer used: one gevent process
    serves many requests at once.

    Requests are logged by Bling itself (JSON, with the request id), so
    gunicorn's access log is off and its own lines are JSON too.
    """
    import os

    from bling.ops.logs import gunicorn_logconfig

    del threads  # see the docstring
    level = os.environ.get("BLING_LOG_LEVEL", "INFO")
    _Gunicorn({"bind": bind, "workers": workers, "worker_class": "bling.edge.web_worker.BlingWebWorker",
               "worker_connections": 1000, "timeout": 30, "keepalive": 2, **REQUEST_LIMITS, "accesslog": None,
               "logconfig_dict": gunicorn_logconfig(level, sandbox=bool(os.environ.get("BLING_SANDBOX"))),
               "forwarded_allow_ips": "127.0.0.1"}, app_factory).run()


def prepare_metrics_dir() -> str:
    """Give this ``bling serve`` (web processes and worker) one fresh prometheus_client multiprocess folder.

    Must run before prometheus_client is imported. An operator's own
    PROMETHEUS_MULTIPROC_DIR is kept (it must exist and be emptied between runs).
    """
    import atexit
    import os
    import shutil
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="bling-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        owner = os.getpid()  # gunicorn's forked workers inherit atexit handlers: only the parent cleans up
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, True))
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]
