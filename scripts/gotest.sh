#!/usr/bin/env bash
# Go client tests: `go test ./...` in clients/go against a real mesh. Starts
# `gym serve --config config/default.yaml`, waits for `ready`, hands the
# agent's and the rollout service's URLs to the tests in GYMMESH_* variables,
# and always stops the mesh at the end. Every step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
source clients/go/goenv.sh
echo "go test (clients/go) with $(go version)" >&2

# Format and vet first (this also builds the dependencies, before the mesh runs).
unformatted=$(cd clients/go && gofmt -l $(find . -name '*.go' -not -path './gen/*'))
if [ -n "$unformatted" ]; then
  echo "error: not gofmt-formatted (run gofmt -w in clients/go): $unformatted" >&2
  exit 1
fi
(cd clients/go && timeout 600 go vet ./...)

tmp=$(mktemp -d)
pid=""
stop_mesh() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap stop_mesh EXIT
trap 'exit 130' INT TERM

# Its own process group (setsid), so that stopping it stops all it started.
setsid node bin/gym.js serve --config config/default.yaml >"$tmp/serve.out" 2>"$tmp/serve.err" </dev/null &
pid=$!
for _ in $(seq 600); do
  grep -q '^ready$' "$tmp/serve.out" && break
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if ! grep -q '^ready$' "$tmp/serve.out"; then
  echo "error: gym serve did not get ready within 60 s" >&2
  cat "$tmp/serve.out" "$tmp/serve.err" >&2
  exit 1
fi
# Lines: NAME  SERVICE  http://HOST:PORT  grpc://HOST:PORT
url() { awk -v s="$1" -v col="$2" '$2 ~ ("\\." s "$") { print $col; exit }' "$tmp/serve.out"; }
export GYMMESH_AGENT_HTTP_URL=$(url AgentService 3) GYMMESH_AGENT_GRPC_URL=$(url AgentService 4)
export GYMMESH_ROLLOUT_HTTP_URL=$(url RolloutService 3) GYMMESH_ROLLOUT_GRPC_URL=$(url RolloutService 4)
export GYMMESH_EXAMPLE_DATA=$PWD/services/environments/example_single_tool_call/data/example.jsonl
export GYMMESH_REQUIRE_MESH=1
for v in GYMMESH_AGENT_HTTP_URL GYMMESH_AGENT_GRPC_URL GYMMESH_ROLLOUT_HTTP_URL GYMMESH_ROLLOUT_GRPC_URL; do
  if [ -z "${!v}" ]; then
    echo "error: no URL for $v in gym serve's output:" >&2
    cat "$tmp/serve.out" >&2
    exit 1
  fi
done

status=0
(cd clients/go && timeout 900 go test -count=1 -timeout 300s ./...) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- gym serve's log (stderr):" >&2
  tail -n 50 "$tmp/serve.err" >&2
fi
exit "$status"
