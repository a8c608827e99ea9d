"""Periodic tasks: what plugins hand the job engine (``bling_periodic_tasks``)."""

from __future__ import annotations

from bling.declarations import PeriodicTask
from bling.errors import ConfigError


def declared_tasks(plugin_manager) -> list[PeriodicTask]:
    """Every plugin's periodic tasks; two with one name stop start-up."""
    tasks: dict[str, PeriodicTask] = {}
    for declared in plugin_manager.hook.bling_periodic_tasks():
        for task in declared or ():
            if task.name in tasks:
                raise ConfigError(f"two plugins declare the periodic task {task.name!r}")
            tasks[task.name] = task
    return list(tasks.values())
