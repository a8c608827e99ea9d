"""WSGI entry point and the gunicorn runner behind ``bling serve``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


def application_factory():
    """Build the app from the environment (once per gunicorn worker, after fork)."""
    from .app import create_app
    from .services import build_services
    from .settings import load_settings

    return create_app(build_services(load_settings()))


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return application_factory()


def run_gunicorn(bind: str, workers: int) -> None:
    """Run gunicorn in this process until it is stopped."""
    _Gunicorn({"bind": bind, "workers": workers, "timeout": 30, "accesslog": "-",
               "forwarded_allow_ips": "127.0.0.1"}).run()
