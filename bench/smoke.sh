#!/usr/bin/env bash
# CI smoke run: a second of each swiftlet-bench workload against a fresh saio, through the
# Swift API and then through the S3 API (listings paged by continuation tokens), so the
# load generator never rots. Numbers from this (debug) build mean nothing; errors fail it.
# Ports: SMOKE_PORT (proxy, 17080), SMOKE_NODE_PORT (first storage node, 17210); below the
# ephemeral port range (32768-60999), so no client socket can be holding one.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BIN="${CARGO_TARGET_DIR:-target}/debug"
cargo build -q -p saio --bin saio -p bench --bin swiftlet-bench
WORK=$(mktemp -d)
PORT=${SMOKE_PORT:-17080}
start_saio "$BIN/saio" "$WORK" "$PORT" "${SMOKE_NODE_PORT:-17210}" --part-power 6

# smoke <api> <workload> <target args...>: one second of one workload; fails on any error.
smoke() {
  local api=$1 workload=$2
  shift 2
  local out
  out=$("$BIN/swiftlet-bench" "$@" --workload "$workload" --duration 1 --warmup 0.3 -c 4 --objects 50 --page 20 \
    --container "smoke-$api-$workload" --server-pid "$SAIO" --json-only)
  echo "bench smoke $api $workload: $out"
  echo "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(1 if j["errors"] or not j["ops"] else 0)'
}
for workload in put get head mixed list delete; do
  smoke swift "$workload" --auth "http://127.0.0.1:$PORT/auth/v1.0"
done
# saio's tempauth user test:tester is the S3 access key, its key the secret.
for workload in put get head list delete; do
  smoke s3 "$workload" --s3-endpoint "http://127.0.0.1:$PORT" --access-key test:tester --secret-key testing
done
"$BIN/swiftlet-bench" --self-test --duration 1 -c 4 --json-only | sed 's/^/bench smoke self-test: /'
