# Sourced (from the repository's root) by scripts/generate-go.sh and
# scripts/gotest.sh: finds a Go toolchain that clients/go/go.mod's `go` line
# allows, never downloads another one, and keeps Go's writes to its standard
# caches (or to .tools/go when there is no home directory) and .tools/go/bin.

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
go_need=$(awk '$1 == "go" { print $2; exit }' clients/go/go.mod)
if ! command -v go >/dev/null 2>&1; then
  echo "error: no 'go' command: the Go client (clients/go) needs Go >= $go_need on PATH (https://go.dev/dl/; Debian's golang-go is too old)" >&2
  exit 1
fi
# Use the installed toolchain only: no toolchain download from the module proxy.
export GOTOOLCHAIN=local
go_have=$(go env GOVERSION 2>/dev/null || true)
go_have=${go_have#go}
if [ -z "$go_have" ] || [ "$(printf '%s\n%s\n' "$go_need" "$go_have" | sort -V | head -n1)" != "$go_need" ]; then
  echo "error: $(command -v go) is Go ${go_have:-unknown}; clients/go/go.mod needs Go >= $go_need" >&2
  exit 1
fi
# Without a home directory Go has no default caches: keep them in the repository.
if [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; then
  export GOPATH=${GOPATH:-$PWD/.tools/go/path}
  export GOCACHE=${GOCACHE:-$PWD/.tools/go/cache}
  export GOMODCACHE=${GOMODCACHE:-$GOPATH/pkg/mod}
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
fi
# Tools (the protoc plugins) go to a git-ignored folder of the repository, never $GOPATH/bin.
export GOBIN=$PWD/.tools/go/bin
