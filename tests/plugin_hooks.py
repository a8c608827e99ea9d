"""Each plugin's own test module must drive every hook the plugin implements (a pytest plugin).

While tests/test_<plugin>.py runs, each hook implementation in
plugins/<plugin>.py is wrapped to note that it was called (directly, or by
Bling through a webhook or a job). When the whole module has run, a hook that
was never called fails the module's last test. tests/test_docs.py requires
the module to exist. Loaded by tests/conftest.py.
"""

from __future__ import annotations

import functools
import inspect
import pathlib

import pytest

from support import local_plugin_files, plugin_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: The attribute pluggy's ``HookimplMarker("bling")`` puts on an implementation.
IMPL_MARK = "bling_impl"


def plugin_of(module_name: str) -> str | None:
    """``dialer_note`` for ``test_dialer_note`` when plugins/ holds a plugin of that name (module or package)."""
    name = module_name.rsplit(".", 1)[-1].removeprefix("test_")
    return name if name in local_plugin_files() and module_name.rsplit(".", 1)[-1] != name else None


def hook_implementations(module) -> list[str]:
    """The names of the hooks a plugin module implements."""
    return sorted(name for name, value in vars(module).items() if callable(value) and hasattr(value, IMPL_MARK))


def _noting(function, called: set[str]):
    """``function`` noting its calls; a wrapper hook (a generator) stays a generator for pluggy."""
    if inspect.isgeneratorfunction(function):
        @functools.wraps(function)  # keeps the hookimpl mark and, through __wrapped__, the argument names
        def noted_wrapper(*args, **kwargs):
            called.add(function.__name__)
            return (yield from function(*args, **kwargs))

        return noted_wrapper

    @functools.wraps(function)
    def noted(*args, **kwargs):
        called.add(function.__name__)
        return function(*args, **kwargs)

    return noted


def _ran_in_full(request) -> bool:
    """Whether every test function of the module was selected (a single test run is not judged)."""
    module = request.module
    defined = {name for name, value in vars(module).items() if name.startswith("test") and callable(value)}
    selected = {item.originalname for item in request.session.items if getattr(item, "module", None) is module}
    return defined == selected


@pytest.fixture(scope="module", autouse=True)
def _plugin_hooks_driven(request):
    name = plugin_of(request.module.__name__)
    if name is None:
        yield
        return
    plugin = plugin_module(name)
    hooks = hook_implementations(plugin)
    called: set[str] = set()
    with pytest.MonkeyPatch.context() as patch:
        for hook in hooks:
            patch.setattr(plugin, hook, _noting(getattr(plugin, hook), called))
        yield
    missing = [hook for hook in hooks if hook not in called]
    if missing and _ran_in_full(request):
        where = local_plugin_files()[name].relative_to(ROOT)
        pytest.fail(f"tests/test_{name}.py never drove {', '.join(missing)} of {where}: "
                    "call each hook directly or through Bling", pytrace=False)
