"""BLING_STORE_URL: one URL picks the store (state and queue), SQLite or PostgreSQL.

Its own small module so settings and the sandbox can both read it without
importing each other (or SQLAlchemy).
"""

from __future__ import annotations

from bling.errors import ConfigError


def store_url_from(value: str) -> str:
    """Accept a bare file path as shorthand for a SQLite store URL."""
    if "://" in value:
        scheme = value.split("://", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres", "postgresql+psycopg2"):
            raise ConfigError(f"BLING_STORE_URL: unsupported scheme {scheme!r} (use a file path, sqlite:///… or postgresql://…)")
        return value.replace("postgres://", "postgresql://", 1)
    return f"sqlite:///{value}"
