#!/usr/bin/env bash
# Makes sure .venv exists with the pinned Python tools of
# clients/python/requirements-dev.txt (grpcio-tools, mypy-protobuf, mypy,
# pytest...). Prints the venv's python. The client package itself is
# installed (editable) by scripts/pytest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "the Python client needs Python 3.10 or newer; python3 is $(python3 --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ] || ! cmp -s clients/python/requirements-dev.txt .venv/.requirements 2>/dev/null; then
  python3 -m venv .venv >&2
  .venv/bin/pip install --quiet --disable-pip-version-check -r clients/python/requirements-dev.txt >&2
  cp clients/python/requirements-dev.txt .venv/.requirements
fi
echo "$PWD/.venv/bin/python"
