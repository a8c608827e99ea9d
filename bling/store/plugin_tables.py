"""The tables plugins declare (``bling_tables``), gathered for the store.

The store creates them beside the host's; a table name two plugins declare
stops start-up naming both, since one name in the database is one table.
"""

from __future__ import annotations

import sqlalchemy as sa

from bling.errors import ConfigError


def declared_tables(plugin_manager) -> list[sa.Table]:
    """Every loaded plugin's tables, in plugin order."""
    owners: dict[str, str] = {}
    tables: list[sa.Table] = []
    for impl in plugin_manager.hook.bling_tables.get_hookimpls():
        for table in impl.function() or ():
            if not isinstance(table, sa.Table):
                raise ConfigError(f"plugin {impl.plugin_name!r}: bling_tables returned {table!r}, not a SQLAlchemy Table")
            if table.name in owners:
                raise ConfigError(f"table {table.name!r} is declared by two plugins, {owners[table.name]!r} and "
                                  f"{impl.plugin_name!r}: rename one (bling_<plugin>_…)")
            owners[table.name] = impl.plugin_name
            tables.append(table)
    return tables
