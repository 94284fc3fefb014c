#!/usr/bin/env bash
# Opens the notebooks in the browser UI (Debian's `jupyter notebook`) with the project-local tslab kernel.
# Extra arguments go to jupyter, e.g. `npm run jupyter -- --no-browser --port 8890`.
set -euo pipefail
cd "$(dirname "$0")/.."
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PATH="$PWD/node_modules/.bin:$PATH"
if [ ! -f .jupyter/share/jupyter/kernels/tslab/kernel.json ]; then
  echo "the tslab kernel is not registered yet: run bash scripts/setup.sh" >&2; exit 2
fi
extra=()
[ "$(id -u)" -eq 0 ] && extra+=(--allow-root)   # jupyter refuses root without it (containers, CI machines)
exec /usr/bin/python3 -m notebook --notebook-dir="$PWD/notebooks" "${extra[@]}" "$@"
