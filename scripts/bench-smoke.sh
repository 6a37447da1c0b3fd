#!/usr/bin/env bash
# A short smoke of both benchmarks, so they never rot (CI runs it after the
# tests, on the build they made). Figures are printed, never checked: a
# smoke point is far too small to mean anything.
#
#   npm run bench -- --smoke            the mesh in both shapes against the bare
#                                       loop, one tiny level
#   npm run bench:nemo-gym -- --smoke   NeMo Gym's newest release (the chroot of
#                                       scripts/nemo-gym-env.sh; made if needed,
#                                       which needs root) and gym-mesh in both
#                                       shapes, one tiny point; fails when a
#                                       system does not start or the systems
#                                       write different numbers of rollouts or
#                                       mean rewards
#
# Neither writes the committed results (bench/results.md, bench/vs-nemo-gym.md):
# the smoke tables go to the temporary folder and to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "bench-smoke: npm run bench -- --smoke" >&2
timeout -k 15 600 npm run --silent bench -- --smoke
echo "bench-smoke: npm run bench:nemo-gym -- --smoke" >&2
timeout -k 15 600 npm run --silent bench:nemo-gym -- --smoke
echo "bench-smoke: both benchmarks ran" >&2
