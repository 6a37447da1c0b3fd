#!/bin/sh
# The image's entrypoint. Without arguments it serves the one instance named
# by $INSTANCE from the config at $GYM_CONFIG (mounted, e.g. a ConfigMap) on
# every interface: `gym serve --only $INSTANCE --host 0.0.0.0`. With arguments
# it is the gym command itself (`... gym-mesh collect ...`, `... gym-mesh --help`).
set -e
if [ "$#" -gt 0 ]; then
  exec node /app/bin/gym.js "$@"
fi
if [ -z "$INSTANCE" ]; then
  echo "gym-entrypoint: set INSTANCE to the config's instance this container serves" >&2
  exit 2
fi
exec node /app/bin/gym.js serve --only "$INSTANCE" --host 0.0.0.0 --config "${GYM_CONFIG:-/etc/gym/config.yaml}"
