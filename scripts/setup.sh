#!/usr/bin/env bash
# Sets up everything iapo needs on a fresh Debian machine, idempotently (a second run is quick):
# Debian packages (Jupyter, OpenBLAS, fonts), npm packages from the lock file, the library build,
# the `iapo` self-link that notebooks import through, and the tslab Jupyter kernel in .jupyter/.
# --with-pytorch also installs Debian's python3-torch, for the PyTorch side of `npm run bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

with_pytorch=0
for arg in "$@"; do
  case "$arg" in
    --with-pytorch) with_pytorch=1 ;;
    *) echo "setup: unknown option $arg (known: --with-pytorch)" >&2; exit 2 ;;
  esac
done

# --- Debian packages (PyPI is not reachable, so Jupyter comes from Debian) ---
# redis-server, slurm and munge: the sweep executors' tests start real ones on loopback; chromium: the report's
# browser test (driven by playwright-core, which downloads no browser of its own).
debs=(python3 python3-nbconvert python3-nbclient python3-nbformat python3-ipykernel jupyter-client jupyter-core
      jupyter-notebook libopenblas-dev fonts-dejavu-core redis-server slurmctld slurmd slurm-client munge chromium)
if ((with_pytorch)); then debs+=(python3-torch); fi
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm packages, exactly as locked; skipped when node_modules already matches the lock file ---
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.iapo-lock-hash
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# --- build the library, and let `import ... from "iapo"` resolve to this folder (tslab needs a real path) ---
echo "setup: building the library"
npx --no-install tsc -p tsconfig.json
ln -sfn .. node_modules/iapo

# --- the TypeScript kernel, registered in a project-local Jupyter prefix (no global install) ---
if [ ! -f .jupyter/share/jupyter/kernels/tslab/kernel.json ]; then
  echo "setup: registering the tslab kernel in .jupyter/"
  node_modules/.bin/tslab install --python=/usr/bin/python3 --prefix="$root/.jupyter" >/dev/null
fi
echo "setup: done"
