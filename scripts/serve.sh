#!/usr/bin/env bash
# Run Bling: creates .venv on first use, reads ./.env if present, then
# `bling serve` (web + worker). Arguments go to `bling serve`, e.g. --bind 0.0.0.0:5000.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
cd "$ROOT"
if [ -f .env ]; then set -a; source .env; set +a; fi
exec "$VENV/bin/bling" serve "$@"
