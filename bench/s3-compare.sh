#!/usr/bin/env bash
# S3 beside Swift on one saio, in one run: the same swiftlet-bench loads through the Swift
# API (tempauth token), S3 with UNSIGNED-PAYLOAD (headers signed, as SDKs over TLS) and S3
# with a signed SHA-256 payload (as SDKs over plain HTTP), then S3/Swift ratios: what the
# signature check and the payload hash cost. Release build.
# Env: DURATION (s per small load, 5), CLIENTS (16), LARGE_MB (64), LARGE_COUNT (4),
#      S3_COMPARE_PORT (proxy, 19180), S3_COMPARE_NODE_PORT (first node port, 19310).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-5}
CLIENTS=${CLIENTS:-16}
LARGE=$((${LARGE_MB:-64} << 20))
LARGE_COUNT=${LARGE_COUNT:-4}
PORT=${S3_COMPARE_PORT:-19180}
cargo build --release -q -p saio --bin saio -p bench --bin swiftlet-bench
WORK=$(mktemp -d)
start_saio "$BENCH_BIN/saio" "$WORK" "$PORT" "${S3_COMPARE_NODE_PORT:-19310}"

# run <api> <name> <swiftlet-bench args...>: one load through one API, its JSON line kept.
run() {
  local api=$1 name=$2
  shift 2
  local target
  case $api in
    swift) target=(--auth "http://127.0.0.1:$PORT/auth/v1.0") ;;
    s3) target=(--s3-endpoint "http://127.0.0.1:$PORT") ;;
    s3-sha256) target=(--s3-endpoint "http://127.0.0.1:$PORT" --s3-payload sha256) ;;
  esac
  echo "== $api: $name" >&2
  "$BENCH_BIN/swiftlet-bench" "${target[@]}" --label "$api" --container "$name-$api" --server-pid "$SAIO" \
    --json-only "$@" | tail -n 1 | sed "s/^{/{\"name\":\"$name\",/" >>"$WORK/results.jsonl"
}

# Each load through the three APIs back to back, so they see the same machine.
for api in swift s3 s3-sha256; do run "$api" warmup --workload put -c "$CLIENTS" --count 200; done
for load in "put4k --workload put -c $CLIENTS --duration $DURATION" \
  "get4k --workload get --objects 1000 -c $CLIENTS --duration $DURATION" \
  "head --workload head --objects 1000 -c $CLIENTS --duration $DURATION" \
  "list --workload list --objects 1000 --page 100 -c 1 --count 20" \
  "largeput --workload large-put --size $LARGE -c 2 --count $LARGE_COUNT" \
  "largeget --workload large-get --size $LARGE -c 2 --count $((LARGE_COUNT + 2)) --objects 2"; do
  # shellcheck disable=SC2086 # the load's words are its arguments
  for api in swift s3 s3-sha256; do run "$api" $load; done
done

python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
r = {(x["name"], x["label"]): x for x in map(json.loads, open(sys.argv[1])) if x["name"] != "warmup"}
apis = ["swift", "s3", "s3-sha256"]
print("\n| load | " + " | ".join(apis) + " | S3/Swift (unsigned / sha256) | server CPU s per 1000 |")
print("|---|---|---|---|---|---|")
for name in dict.fromkeys(n for n, _ in r):
    key, unit = ("mb_per_s", "MB/s") if name.startswith("large") else ("ops_per_s", "ops/s")
    rate = {a: r[(name, a)][key] for a in apis}
    cpu = " / ".join(f'{r[(name, a)]["server_cpu_s_per_1000"]:.2f}' for a in apis)
    ratios = " / ".join(f"{rate[a] / rate['swift']:.2f}" for a in apis[1:])
    print(f"| {name} | " + " | ".join(f"{rate[a]:,.1f} {unit}" for a in apis) + f" | {ratios} | {cpu} |")
print("\nratio 1.00 = S3 costs nothing on top of Swift; errors:", sum(x["errors"] for x in r.values()))
PY
