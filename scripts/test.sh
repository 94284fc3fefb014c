#!/usr/bin/env bash
# The whole test suite: type check and build, lint, then unit, integration and notebook tests
# (node's test runner; its summary is the last thing printed). Run scripts/setup.sh first on a new machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export IAPO_SCALE="${IAPO_SCALE:-smoke}"
echo "== type check + build"
npx --no-install tsc -p tsconfig.json
echo "== lint"
npm run --silent lint
echo "== tests (scale $IAPO_SCALE)"
node scripts/run-unit-tests.mjs "$@"
