#!/usr/bin/env bash
# NeMo Gym's newest release, the reference for rewards, in a Debian trixie
# chroot: the release declares Python >= 3.13.14, which no Python of this
# machine is, so it runs on trixie's python3 (3.13) from /opt/ng of the chroot,
# installed with --ignore-requires-python from test/nemo_gym/requirements.txt.
#
#   bash scripts/nemo-gym-env.sh      makes the chroot if needed; prints its root
#   bash scripts/nemo-gym-python.sh   runs its python (see there)
#
# Made once and cached outside the clone, so CI's fresh clone reuses it:
# $GYM_NEMO_GYM_CACHE (default /var/cache/gym-mesh)/nemo-gym-<version>/root,
# complete when root/.gym-mesh-complete holds the key (the requirements and
# this recipe). A half-made or stale one is made again from scratch; other
# versions beside it are removed. Needs root (debootstrap, chroot), as CI is.
# Every step is bounded in time; mounts (/proc while apt runs) live in a
# private mount namespace, so they vanish with it, even on a kill.
set -euo pipefail
cd "$(dirname "$0")/.."
req=$PWD/test/nemo_gym/requirements.txt
version=$(sed -n 's/^nemo-gym==\([^ ]*\).*/\1/p' "$req")
[ -n "$version" ] || { echo "nemo-gym-env: no nemo-gym==VERSION line in $req" >&2; exit 1; }
recipe=3   # bump when the steps below change
key="recipe $recipe; trixie minbase; $(sha256sum "$req" | cut -d' ' -f1)"
base=${GYM_NEMO_GYM_CACHE:-/var/cache/gym-mesh}
dir=$base/nemo-gym-$version
root=$dir/root
marker=$root/.gym-mesh-complete

ready() { [ -x "$root/opt/ng/bin/python" ] && [ "$(cat "$marker" 2>/dev/null)" = "$key" ]; }
if ready; then
  echo "$root"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "nemo-gym-env: making the NeMo Gym $version chroot needs root (debootstrap, chroot)" >&2
  exit 1
fi
mkdir -p "$base"
exec 9>"$base/.lock"
flock -w 2400 9 || { echo "nemo-gym-env: $base/.lock is still held by another build after 40 min" >&2; exit 1; }
if ready; then   # another process made it while this one waited
  echo "$root"
  exit 0
fi

log() { echo "nemo-gym-env: $*" >&2; }
# Removes a directory that may be a chroot, never crossing into a mount.
remove() {
  local d=$1
  [ -e "$d" ] || return 0
  if findmnt -rn -o TARGET | grep -qF "$d/"; then
    log "refusing to remove $d: something is mounted under it"
    findmnt -rn -o TARGET | grep -F "$d/" >&2
    exit 1
  fi
  rm -rf --one-file-system "$d"
}
# Runs a command in ROOT with /proc and /dev, in a private mount namespace,
# with a clean environment (plus this machine's proxy settings, if any).
in_root() {
  local seconds=$1 var
  shift
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
    DEBIAN_FRONTEND=noninteractive PIP_CERT=/etc/ssl/certs/gym-mesh-ca.crt PIP_CONFIG_FILE=/etc/pip.conf)
  for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!var:-}" ] && env+=("$var=${!var}")
  done
  timeout -k 10 "$seconds" unshare --mount --propagation private -- /bin/sh -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i "$@"' sh "$root" "${env[@]}" "$@"
}

for old in "$base"/nemo-gym-*; do
  [ -d "$old" ] && [ "$old" != "$dir" ] && { log "removing $old (another version)"; remove "$old"; }
done
remove "$dir"
mkdir -p "$dir"
start=$SECONDS

if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  timeout 600 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq debootstrap >/dev/null
fi
log "debootstrap trixie into $root (a few minutes, once)"
# In its own mount namespace: what debootstrap mounts in the target goes away with it.
if ! timeout -k 10 900 unshare --mount --propagation private -- \
  debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1; then
  tail -20 "$dir/debootstrap.log" >&2
  log "debootstrap failed (log: $dir/debootstrap.log)"
  exit 1
fi
log "debootstrap took $((SECONDS - start)) s"

# Name resolution for apt and pip, and the CA bundle and pip configuration of
# this machine (pip in the chroot fails certificate checks without them).
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp -L /etc/hosts "$root/etc/hosts"
ca=${PIP_CERT:-}
[ -n "$ca" ] && [ -f "$ca" ] || ca=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$root/etc/ssl/certs"
cp -L "$ca" "$root/etc/ssl/certs/gym-mesh-ca.crt"
# pip's own configuration files, merged as pip reads them (later wins), then
# PIP_* variables; cert points at the copied bundle, and paths of this machine
# (find-links) are dropped.
python3 - "$root/etc/pip.conf" /etc/pip.conf /etc/xdg/pip/pip.conf \
  "${XDG_CONFIG_HOME:-$HOME/.config}/pip/pip.conf" "$HOME/.pip/pip.conf" "${PIP_CONFIG_FILE:-}" <<'PY'
import configparser, os, sys
out, *files = sys.argv[1:]
conf = configparser.RawConfigParser()
conf.read([f for f in files if f and os.path.isfile(f)])
for var, value in os.environ.items():
    if var.startswith("PIP_") and var not in ("PIP_CERT", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
        conf.setdefault("global", {})
        conf["global"][var[4:].lower().replace("_", "-")] = value
conf.setdefault("global", {})
for section in conf.sections():
    for drop in ("find-links", "find_links", "cert"):
        conf.remove_option(section, drop)
conf["global"]["cert"] = "/etc/ssl/certs/gym-mesh-ca.crt"
with open(out, "w") as f:
    conf.write(f)
PY

t=$SECONDS
log "apt-get install python3 python3-venv python3-pip"
in_root 300 apt-get update -qq
in_root 600 apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip ca-certificates >/dev/null
log "apt-get took $((SECONDS - t)) s; $(in_root 60 python3 --version)"

t=$SECONDS
log "pip install nemo-gym==$version and its servers' extras into /opt/ng (several minutes, once)"
cp "$req" "$root/opt-requirements.txt"
in_root 120 python3 -m venv /opt/ng
in_root 1500 /opt/ng/bin/pip install --quiet --no-cache-dir --ignore-requires-python -r /opt-requirements.txt >&2
in_root 300 /opt/ng/bin/python -c 'import nemo_gym, resources_servers, responses_api_agents'
log "pip install took $((SECONDS - t)) s"

mkdir -p "$root/gym-mesh"   # where scripts/nemo-gym-python.sh mounts the clone
in_root 60 apt-get clean
echo "$key" >"$marker"
log "NeMo Gym $version ready in $root ($((SECONDS - start)) s)"
echo "$root"
