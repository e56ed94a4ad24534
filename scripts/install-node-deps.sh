#!/usr/bin/env bash
# Installs the npm test servers (dynalite) into tests/node_modules from the committed lockfile.
# Idempotent: skips npm when node_modules already matches the lockfile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tests="$root/tests"
command -v npm >/dev/null || { echo "install-node-deps: npm not found (apt-get install nodejs npm)" >&2; exit 1; }
stamp="$tests/node_modules/.ttla-lock.sha256"
want=$(sha256sum "$tests/package-lock.json" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$tests/node_modules/dynalite/cli.js" ]]; then
  exit 0
fi
npm ci --prefix "$tests" --no-audit --no-fund --loglevel=error >/dev/null
echo "$want" > "$stamp"
echo "install-node-deps: dynalite $(node -p "require('$tests/node_modules/dynalite/package.json').version") in tests/node_modules"
