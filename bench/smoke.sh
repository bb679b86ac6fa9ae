#!/usr/bin/env bash
# CI smoke run: a few seconds of each swiftlet-bench workload against a fresh saio, so the
# load generator never rots. Numbers from this (debug) build mean nothing; errors fail it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-target}/debug"
cargo build -q -p saio --bin saio -p bench --bin swiftlet-bench
WORK=$(mktemp -d)
PORT=${SMOKE_PORT:-48080}
"$BIN/saio" --data-dir "$WORK/data" --proxy-port "$PORT" --node-base-port 46210 --part-power 6 >"$WORK/saio.log" 2>&1 &
SAIO=$!
trap 'kill $SAIO 2>/dev/null; wait $SAIO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do grep -q ready "$WORK/saio.log" && break; sleep 0.1; done
grep -q ready "$WORK/saio.log" || { cat "$WORK/saio.log"; exit 1; }
for workload in put get head mixed list delete; do
  out=$("$BIN/swiftlet-bench" --auth "http://127.0.0.1:$PORT/auth/v1.0" --workload "$workload" --duration 1 \
    -c 4 --objects 50 --container "smoke-$workload" --server-pid "$SAIO" --json-only)
  echo "bench smoke $workload: $out"
  echo "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(1 if j["errors"] or not j["ops"] else 0)'
done
"$BIN/swiftlet-bench" --self-test --duration 1 -c 4 --json-only | sed 's/^/bench smoke self-test: /'
