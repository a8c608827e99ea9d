"""context.state is a contract between plugins: every key a plugin (or the host) uses is declared in ChainState.

Planted bug it catches: a plugin writes ``context.state["conversation"]`` where the next one reads
``conversation_id`` (or a new key nobody documented), so the later plugin silently sees nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bling.config.settings import ROOT
from bling.context import ChainState

SOURCES = sorted([*(ROOT / "plugins").rglob("*.py"), *(ROOT / "bling").rglob("*.py")])


def state_keys(source: str) -> set[str]:
    """String keys used on ``context.state``: subscripts, get/setdefault/pop, and ``in``."""
    found: set[str] = set()

    def is_state(node) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "state" and \
            isinstance(node.value, ast.Name) and node.value.id == "context"

    def literal(node) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and is_state(node.value):
            key = literal(node.slice)
            if key is None:
                raise AssertionError(f"context.state[{ast.unparse(node.slice)}]: state keys must be literal strings")
            found.add(key)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_state(node.func.value) \
                and node.func.attr in ("get", "setdefault", "pop") and node.args:
            found.add(literal(node.args[0]) or f"<non-literal {ast.unparse(node.args[0])}>")
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) \
                and any(is_state(c) for c in node.comparators) and literal(node.left):
            found.add(literal(node.left))
    return found


def used_keys() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        for key in state_keys(path.read_text()):
            used.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return used


def test_every_state_key_a_plugin_uses_is_declared():
    undeclared = {key: where for key, where in used_keys().items() if key not in ChainState.__annotations__}
    assert not undeclared, f"declare these keys in ChainState (bling/context.py), with who sets and reads them: {undeclared}"


def test_every_declared_key_is_used():
    stale = sorted(set(ChainState.__annotations__) - set(used_keys()))
    assert not stale, f"ChainState declares keys no plugin uses any more: {stale}"


@pytest.mark.parametrize("snippet, keys", [
    ('context.state["conversation"] = 1', {"conversation"}),
    ('x = context.state.get("supporter")', {"supporter"}),
    ('context.state.setdefault("first_contact", False)', {"first_contact"}),
    ('if "conversation_id" not in context.state: pass', {"conversation_id"}),
    ('context.state.pop("recording_not_attached", None)', {"recording_not_attached"}),
    ('store.state["x"] = 1\nby_state.get("pending")', set()),  # not context.state
])
def test_the_scan_finds_every_way_a_key_is_used(snippet, keys):
    assert state_keys(snippet) == keys


def test_a_computed_key_is_refused():
    with pytest.raises(AssertionError, match="literal strings"):
        state_keys("context.state[name] = 1")
