#!/usr/bin/env bash
# Runs the Python tests: the client package (clients/python, installed
# editable into .venv) against real meshes, mypy --strict over it and its
# examples, the wheel in a fresh venv; then test/nemo_gym: NeMo Gym's own
# servers (its newest release, the reward reference) against ours, and every
# verify case scored by NeMo Gym's resources server too.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/python-env.sh)
"$python" -m pip install --quiet --disable-pip-version-check --no-deps -e clients/python
"$python" -m pytest -q test/python "$@"

# NeMo Gym's release runs in a Debian trixie chroot that
# scripts/nemo-gym-env.sh makes once (as root) and caches outside the clone;
# the tests run here and start its servers there. CI sets
# GYM_REQUIRE_NEMO_GYM=1: no chroot is a failure there, never a skip.
if [ "$(id -u)" = 0 ] && nemo_root=$(bash scripts/nemo-gym-env.sh); then
  GYM_NEMO_GYM_ROOT=$nemo_root "$python" -m pytest -q -rfEs test/nemo_gym "$@"
elif [ "${GYM_REQUIRE_NEMO_GYM:-0}" = 1 ]; then
  echo "no NeMo Gym chroot (it needs root; see above): cannot run the NeMo Gym tests" >&2
  exit 1
else
  echo "NeMo Gym tests skipped: no NeMo Gym chroot (it needs root; see above)" >&2
fi
