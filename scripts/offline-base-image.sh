#!/usr/bin/env bash
# Makes the base image the container tests build on, without a registry:
# Debian trixie (debootstrap, minbase) with its Node 20 plus this machine's
# npm (the build stage runs npm ci). Imported as localhost/gym-base-offline;
# kept once made (delete it with `podman rmi` to remake it).
set -euo pipefail
image=${1:-localhost/gym-base-offline}
if podman image exists "$image"; then echo "$image"; exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=nodejs trixie "$root" http://deb.debian.org/debian >&2
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/bin"
cp -R "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
tar -C "$root" -c . | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >&2
echo "$image"
