#!/usr/bin/env bash
# Makes sure .venv exists with the pinned Python tools and the client package
# installed (editable). Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ] || ! cmp -s clients/python/requirements-dev.txt .venv/.requirements 2>/dev/null; then
  python3 -m venv .venv >&2
  .venv/bin/pip install --quiet --disable-pip-version-check -r clients/python/requirements-dev.txt >&2
  cp clients/python/requirements-dev.txt .venv/.requirements
fi
echo "$PWD/.venv/bin/python"
