#!/usr/bin/env bash
# Regenerates the Go code of clients/go/gen from proto/gymmesh (buf, with
# buf.gen.go.yaml), with protoc-gen-go and protoc-gen-go-grpc at the versions
# pinned here, installed by `go install` into .tools/go/bin when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source clients/go/goenv.sh

# Keep protoc-gen-go at the google.golang.org/protobuf version of clients/go/go.mod.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

runtime=$(awk '$1 == "google.golang.org/protobuf" { print $2 }' clients/go/go.mod)
if [ "$runtime" != "${PROTOC_GEN_GO##*@}" ]; then
  echo "error: protoc-gen-go is pinned at ${PROTOC_GEN_GO##*@} here but clients/go/go.mod has google.golang.org/protobuf $runtime: make them the same" >&2
  exit 1
fi

# Installs pkg@version unless .tools/go/bin has that version (`NAME --version`
# ends with it, with or without the v).
install_plugin() {
  local pkg=${1%@*} version=${1##*@}
  local bin=$GOBIN/${pkg##*/} have=""
  if [ -x "$bin" ]; then
    have=$("$bin" --version 2>/dev/null | awk '{ print $NF }') || true
  fi
  if [ "${have#v}" != "${version#v}" ]; then
    echo "installing $pkg@$version into ${GOBIN#"$PWD"/}" >&2
    go install "$pkg@$version"
  fi
}
install_plugin "$PROTOC_GEN_GO"
install_plugin "$PROTOC_GEN_GO_GRPC"

PATH="$GOBIN:$PATH" npx buf generate --template buf.gen.go.yaml
