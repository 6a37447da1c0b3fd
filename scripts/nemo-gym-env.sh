#!/usr/bin/env bash
# Makes sure .venv-nemo-gym exists: Python 3.12 with NeMo Gym itself (pinned),
# for the tests that run NeMo Gym's own servers against ours. Prints its
# python, or nothing when no Python 3.12 is on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/nemo_gym/requirements.txt
if [ ! -x .venv-nemo-gym/bin/python ] || ! cmp -s "$req" .venv-nemo-gym/.requirements 2>/dev/null; then
  py=""
  for candidate in python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      py=$candidate
      break
    fi
  done
  [ -n "$py" ] || exit 0
  rm -rf .venv-nemo-gym
  "$py" -m venv .venv-nemo-gym >&2
  .venv-nemo-gym/bin/pip install --quiet --disable-pip-version-check -r "$req" >&2
  cp "$req" .venv-nemo-gym/.requirements
fi
echo "$PWD/.venv-nemo-gym/bin/python"
