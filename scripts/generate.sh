#!/usr/bin/env bash
# Regenerates all code from proto/: TypeScript into gen/ (buf + protoc-gen-es),
# Python grpcio stubs into clients/python/gen/ (grpcio-tools, which buf cannot drive;
# google.rpc comes from googleapis-common-protos there).
set -euo pipefail
cd "$(dirname "$0")/.."

npx buf lint
npx buf generate

python=$(bash scripts/python-env.sh)
out=clients/python/gen
rm -rf "$out"
mkdir -p "$out"
"$python" -m grpc_tools.protoc -I proto \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  $(cd proto && find gymmesh -name '*.proto' | sort)

# Go: clients/go/gen (buf with the Go plugins, installed by go install).
bash scripts/generate-go.sh
