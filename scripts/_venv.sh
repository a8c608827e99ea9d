# Sourced by scripts/serve.sh and scripts/test.sh: create .venv and install Bling.
# Re-installs only when setup.cfg changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BLING_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating virtualenv in $VENV" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip >&2
fi
STAMP="$VENV/.bling-installed$EXTRAS"
if [ ! -f "$STAMP" ] || [ "$ROOT/setup.cfg" -nt "$STAMP" ]; then
  echo "Installing Bling$EXTRAS into $VENV" >&2
  "$VENV/bin/pip" install --quiet -e "$ROOT$EXTRAS" >&2
  touch "$STAMP"
fi
