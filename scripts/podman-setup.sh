#!/usr/bin/env bash
# Installs and configures what the engine test needs (as root, Debian):
# podman, runc and debootstrap, and a containers.conf that uses runc, sets
# no default ulimits (crun's setrlimit is refused in some sandboxes) and keeps
# a pod up when its containers exit (pod_exit_policy "continue", as a
# Kubernetes pod: with podman's default "stop", the exit handler of a stopped
# container could stop the pod again just after `podman pod start`, leaving
# the restarted container with no IP). Safe to run again; an existing
# containers.conf is left alone unless it lacks these.
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
conf=/etc/containers/containers.conf
if ! grep -qs '^runtime = "runc"' "$conf"; then
  mkdir -p /etc/containers
  cat >>"$conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
pod_exit_policy = "continue"
CONF
elif ! grep -qs '^pod_exit_policy = "continue"' "$conf"; then
  sed -i 's/^runtime = "runc"$/runtime = "runc"\npod_exit_policy = "continue"/' "$conf"
fi
podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null
