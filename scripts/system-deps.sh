#!/usr/bin/env bash
# Install the Debian packages the tests need, when missing: Chromium (browser tests),
# PostgreSQL (the suite runs on SQLite and PostgreSQL; the tests start their own server), Redis
# and nginx (the engines' lock store and the front of the production layout, `giaitrinh
# cluster`; started by it, never as system services) and
# curl (the README's API examples are run as written); npm installs the console's browser
# libraries (scripts/vendor.sh, run by the set-up).
set -euo pipefail
# Arguments name a subset (`system-deps.sh npm`, for the set-up of `make run`); none: all.
only=" $* "
want() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
missing=()
want chromium && { command -v chromium >/dev/null 2>&1 || missing+=(chromium); }
want postgresql && { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql); }
want redis && { command -v redis-server >/dev/null 2>&1 || missing+=(redis-server); }
want nginx && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx); }
want curl && { command -v curl >/dev/null 2>&1 || missing+=(curl); }
want npm && { command -v npm >/dev/null 2>&1 || missing+=(npm); }
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: the tests need these Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "==> installing ${missing[*]}"
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
  { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
