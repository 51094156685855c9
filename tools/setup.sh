#!/usr/bin/env bash
# One-step set-up: creates ./.venv with Python 3.11 on first use and installs edgegnn (editable)
# with every extra, at the exact versions of constraints.txt (the set the tests pass with).
# Re-running is cheap: it reinstalls only when pyproject.toml or constraints.txt changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py="$cand"; break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "edgegnn set-up: Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "edgegnn set-up: creating .venv with $py" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.edgegnn-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "edgegnn set-up: installing edgegnn[all,dev] at constraints.txt's versions (first run" \
       "takes a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[all,dev]"
  echo "$want" > "$stamp"
fi
# Two tests need system tools: tests/test_deploy_pi.py starts a real OpenSSH server on
# loopback, and the microcontroller tests compile the generated C array with g++. Install
# what is missing when apt-get is usable as root (quiet, idempotent; skipped otherwise, and
# those tests then fail naming the package to install).
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "edgegnn set-up: installing ${need[*]} (for the SSH deploy and microcontroller tests)" >&2
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
         || { apt-get update -qq >/dev/null 2>&1 \
              && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }; }; then
    echo "edgegnn set-up: could not install ${need[*]}; the tests that need them will fail" \
         "until they exist (apt-get install -y ${need[*]})." >&2
  fi
fi
