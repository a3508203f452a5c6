#!/usr/bin/env bash
# Build both Python environments from the pinned lock files (idempotent, fast when done).
#   .venv       Python 3.11: gateway, actions, tests
#   .venv-rasa  Python 3.10: the Rasa 3.6 engine (Rasa 3.6 does not run on 3.11)
set -euo pipefail
cd "$(dirname "$0")/.."

# find_python X.Y: a working interpreter of that version, or nothing.
find_python() {
  local want=$1 candidate root dir
  for candidate in "python$want" python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  # pyenv installs versions side by side; its shims only expose the global one.
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for dir in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do
      if [ -x "$dir/bin/python$want" ]; then
        echo "$dir/bin/python$want"
        return 0
      fi
    done
  fi
  return 1
}

# stamp: what the environment was built from; a change rebuilds it.
stamp() { cat "$@" | sha256sum | cut -c1-16; }

build_env() {
  local dir=$1 python=$2 want_stamp=$3
  shift 3
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want_stamp" ]; then
    return 0
  fi
  echo "==> building $dir with $python"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade "pip==24.3.1" "setuptools==75.6.0" "wheel==0.45.1"
  "$@"
  echo "$want_stamp" >"$dir/.stamp"
}

PY311=$(find_python 3.11) || {
  echo "error: Python 3.11 is needed for the gateway. Install it (e.g. 'pyenv install 3.11' or 'apt install python3.11')." >&2
  exit 1
}
PY310=$(find_python 3.10) || {
  echo "error: Python 3.10 is needed for the Rasa 3.6 engine and none was found (tried python3.10 on PATH and pyenv's versions/3.10.*). Install it, e.g. 'pyenv install 3.10'." >&2
  exit 1
}

build_env .venv "$PY311" "$(stamp requirements/gateway.lock pyproject.toml)" \
  sh -c '.venv/bin/pip install --quiet --no-deps -r requirements/gateway.lock && .venv/bin/pip install --quiet --no-deps --no-build-isolation -e .'
build_env .venv-rasa "$PY310" "$(stamp requirements/rasa.lock)" \
  .venv-rasa/bin/pip install --quiet --no-deps -r requirements/rasa.lock
bash scripts/vendor.sh
echo "==> environments ready (.venv: $(.venv/bin/python -V), .venv-rasa: $(.venv-rasa/bin/python -V))"
