#!/usr/bin/env bash
# Run Bling: creates .venv on first use, reads ./.env if present, then `bling serve`
# (web + worker). With no Twilio/Help Scout settings at all it starts the sandbox
# (fake accounts, page at /sandbox); scripts/bling then reaches it.
# Arguments go to `bling serve`, e.g. --bind 0.0.0.0:5000.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
cd "$ROOT"
if [ -f .env ]; then set -a; source .env; set +a; fi
export BLING_SANDBOX_ENV_FILE="$ROOT/.bling-sandbox.env"
rm -f "$BLING_SANDBOX_ENV_FILE"
exec "$VENV/bin/bling" serve --sandbox-if-unconfigured "$@"
