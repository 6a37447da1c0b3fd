#!/usr/bin/env bash
# Runs NeMo Gym's python: /opt/ng/bin/python of the chroot that
# scripts/nemo-gym-env.sh makes (NeMo Gym's newest release on Python 3.13).
#
#   bash scripts/nemo-gym-python.sh [--cwd DIR] ARGS...
#
# This clone is mounted read-only at /gym-mesh in the chroot, and DIR (a path
# in the chroot) is the working directory, /gym-mesh by default. The chroot
# shares this machine's network, so servers inside and outside talk over
# 127.0.0.1. /proc, /dev, a fresh /tmp and the clone are mounted in a private
# mount namespace that ends with the process, so nothing stays mounted (and the
# cached chroot keeps no temporary files), even after a
# kill; every step execs the next, so the process keeps this PID and gets the
# signals sent to it. The environment is clean but for NEMO_GYM_* variables.
# The chroot's root is $GYM_NEMO_GYM_ROOT when set (what
# scripts/nemo-gym-env.sh printed), else scripts/nemo-gym-env.sh is asked.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cwd=/gym-mesh
if [ "${1:-}" = --cwd ]; then
  cwd=$2
  shift 2
fi
root=${GYM_NEMO_GYM_ROOT:-$(bash "$repo/scripts/nemo-gym-env.sh")}
[ -x "$root/opt/ng/bin/python" ] || { echo "nemo-gym-python: no NeMo Gym in $root (run scripts/nemo-gym-env.sh)" >&2; exit 1; }

env=(PATH=/opt/ng/bin:/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1)
while IFS= read -r var; do
  env+=("$var=${!var}")
done < <(compgen -e | grep -E '^NEMO_GYM_' || true)

exec unshare --mount --propagation private -- /bin/sh -ec '
  root=$1 repo=$2 cwd=$3
  shift 3
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount --bind "$repo" "$root/gym-mesh"
  mount -o remount,bind,ro "$root/gym-mesh"
  exec chroot "$root" /usr/bin/env -i -C "$cwd" "$@"' \
  sh "$root" "$repo" "$cwd" "${env[@]}" /opt/ng/bin/python "$@"
