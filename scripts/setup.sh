#!/usr/bin/env bash
# Installs everything peakday needs on a fresh Debian machine with Node 20 + npm 11, idempotently:
# Debian packages (chromium for the HTML report's browser test, xmllint for JUnit schema checks; nginx and wrk for benchmarks, only
# with --bench) and the npm dependencies (npm ci, only when package-lock.json changed).
set -euo pipefail
cd "$(dirname "$0")/.."

want=(chromium libxml2-utils)
if [[ "${1:-}" == "--bench" ]]; then want+=(nginx wrk); fi

missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=node_modules/.peakday-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -L node_modules ]]; then
  # A second work tree whose node_modules links to the main checkout's: npm ci here would empty the
  # shared directory under every other work tree. Install from the main checkout instead.
  echo "setup: node_modules is a link ($(readlink node_modules)): npm ci skipped"
elif [[ ! -f "$stamp" || "$(cat "$stamp")" != "$hash" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$hash" >"$stamp"
fi
