#!/usr/bin/env bash
# The v1 API is frozen: `buf breaking` (FILE rules) checks the protos against
# the last earlier commit that changed them. A deliberate break says so with a
# `Proto-Breaking: <why>` trailer in a commit since then.
set -euo pipefail
cd "$(dirname "$0")/.."

base=$(git log -1 --format=%H HEAD^ -- proto 2>/dev/null || true)
if [ -z "$base" ]; then
  echo "buf breaking: no earlier commit changed proto/: nothing to compare" >&2
  exit 0
fi
if [ -z "$(git ls-tree -d "$base" proto/gymmesh)" ]; then
  echo "buf breaking: ${base:0:12} predates the gymmesh.v1 API: nothing to compare" >&2
  exit 0
fi
if git log --format=%B "$base..HEAD" | grep -q '^Proto-Breaking:'; then
  echo "buf breaking: skipped, a commit since ${base:0:12} declares a deliberate break:" >&2
  git log --format=%B "$base..HEAD" | grep '^Proto-Breaking:' >&2
  exit 0
fi
npx buf breaking --against ".git#ref=$base"
echo "buf breaking: no breaking change since ${base:0:12}" >&2
