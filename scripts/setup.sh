#!/usr/bin/env bash
# Idempotent setup: Debian packages the project needs, a virtual environment at .venv/, and
# every Python package pinned with hashes in requirements.lock (plus this project, editable).
# Re-running is cheap: each step checks first; Python packages are re-synced only when
# requirements.lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
ldconfig -p 2>/dev/null | grep -q libGL.so.1 || need_apt+=(libgl1)
ldconfig -p 2>/dev/null | grep -q libglib-2.0.so.0 || need_apt+=(libglib2.0-0)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.workbench-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the locked Python packages into .venv"
  if [ ! -x .venv/bin/uv ]; then
    # uv itself comes from the lock: its pinned version and hashes, installed by pip.
    uv_req=$(mktemp)
    awk '/^uv==/{p=1} p&&/^[a-z0-9]/&&!/^uv==/{exit} p' requirements.lock > "$uv_req"
    .venv/bin/python -m pip install -q --no-deps --require-hashes -r "$uv_req"
    rm -f "$uv_req"
  fi
  .venv/bin/uv pip sync -q --python .venv/bin/python --require-hashes requirements.lock
  .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
  echo "$want" > "$stamp"
fi
