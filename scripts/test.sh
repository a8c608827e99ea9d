#!/usr/bin/env bash
# Run Bling's tests: creates .venv with the test extras on first use, then pytest.
# Arguments go to pytest, e.g. scripts/test.sh tests/test_edge.py -q
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "[test,docs]"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
