#!/usr/bin/env bash
# Vendor the console's browser libraries (htmx, its SSE extension, Chart.js) from the npm registry:
# `npm ci` installs exactly package-lock.json into node_modules/ (ignored by git), then the
# minified files are copied where the gateway serves them. Idempotent, fast when done.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v npm >/dev/null 2>&1 || bash scripts/system-deps.sh npm
want=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.stamp ] || [ "$(cat node_modules/.stamp)" != "$want" ]; then
  echo "==> installing the console's browser libraries (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" >node_modules/.stamp
fi
vendor=bot/web/console/static/vendor
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/htmx-ext-sse/dist/sse.min.js "$vendor/htmx-ext-sse.min.js"
cp node_modules/chart.js/dist/chart.umd.min.js "$vendor/chart.umd.min.js"
mkdir -p bot/web/public/static/vendor  # the public scoreboard draws its trends with it too
cp node_modules/chart.js/dist/chart.umd.min.js bot/web/public/static/vendor/chart.umd.min.js
