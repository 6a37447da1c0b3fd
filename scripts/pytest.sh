#!/usr/bin/env bash
# Runs the Python tests: the client package (clients/python, installed
# editable into .venv) against real meshes, mypy --strict over it and its
# examples, the wheel in a fresh venv; then NeMo Gym's own servers (the
# nemo-gym package, Python 3.12) against ours.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/python-env.sh)
"$python" -m pip install --quiet --disable-pip-version-check --no-deps -e clients/python
"$python" -m pytest -q test/python "$@"

nemo_python=$(bash scripts/nemo-gym-env.sh)
if [ -z "$nemo_python" ]; then
  if [ "${GYM_REQUIRE_NEMO_GYM:-0}" = 1 ]; then
    echo "no Python 3.12 on this machine: cannot run the NeMo Gym interoperability tests" >&2
    exit 1
  fi
  echo "NeMo Gym interoperability tests skipped: no Python 3.12 on this machine" >&2
  exit 0
fi
"$nemo_python" -m pytest -q test/nemo_gym "$@"
