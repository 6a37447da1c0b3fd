#!/usr/bin/env bash
# Runs the Python tests (the generated client against a real mesh).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/python-env.sh)
"$python" -m pip install --quiet --disable-pip-version-check --no-deps -e clients/python
exec "$python" -m pytest -q test/python "$@"
