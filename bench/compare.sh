#!/usr/bin/env bash
# Swiftlet beside OpenStack Swift on this machine, in one run: the same workloads through
# each proxy (alternating which goes first), the machine's physical limits, and one table
# of ratios Swiftlet/Swift.
#
#   bench/compare.sh                 # the standard run (~12 min)
#   DURATION=5 LIST_OBJECTS=10000 bench/compare.sh     # quicker
#   bench/compare.sh --full          # also the ring, listing-server and object-server comparisons
#
# Both clusters: 4 devices on 4 storage nodes, 3 replicas, part power 10, tempauth with the
# SAIO users, every write fsynced, servers only (no replicators, auditors or updaters). Swift
# runs from PyPI (swift==2.38.3) with memcached.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-16}
# Unmeasured seconds of each small-object workload first (both systems alike), so the
# figures are a steady state, not a fresh cluster making its first partition directories.
WARMUP=${WARMUP:-2}
# Rounds of the small-object workloads, both systems back to back in each: this VM's speed
# swings by a third within a minute, so the table gives each system's median and the
# median of the per-round ratios.
ROUNDS=${ROUNDS:-3}
LARGE_MB=${LARGE_MB:-256}
LIST_OBJECTS=${LIST_OBJECTS:-100000}
# Ports below Linux's ephemeral range (32768-60999), so no client socket can hold one.
SWIFT_PROXY_PORT=${SWIFT_PROXY_PORT:-28080}
SWIFTLET_PROXY_PORT=${SWIFTLET_PROXY_PORT:-18080}
SWIFTLET_NODE_PORT=${SWIFTLET_NODE_PORT:-16210}

scripts/bootstrap.sh
ensure_swift_venv
if ! command -v memcached >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends memcached >/dev/null
fi
cargo build --release -q -p saio --bin saio
cargo build --release -q -p swiftlet-ring --bin ring-builder
cargo build --release -q -p bench --bin swiftlet-bench --bin limits --bin listing_fill

WORK=$(mktemp -d "${TMPDIR:-/tmp}/swiftlet-compare.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "$WORK/swift/etc" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The disk's limits first, on a quiet disk. The small files stay until the end: deleting
# them would leave inodes that ext4 without a journal (as here) skips over while they are
# recently deleted, slowing new files for a minute or more for whichever system ran next.
echo "== physical limits (this disk, this machine)" >&2
"$BENCH_BIN/limits" --dir "$WORK" --keep-files >"$WORK/limits.json"
cat "$WORK/limits.json" >&2

# ---- OpenStack Swift SAIO -------------------------------------------------------------
SW=$WORK/swift
mkdir -p "$SW/etc"
for i in 1 2 3 4; do mkdir -p "$SW/node$i/sdb$i"; done
cat >"$SW/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = bench
swift_hash_path_suffix = bench
[storage-policy:0]
name = Policy-0
default = yes
EOF
kinds=(object container account)
for k in 0 1 2; do
  kind=${kinds[$k]}
  "$SWIFT_VENV/bin/swift-ring-builder" "$SW/etc/$kind.builder" create 10 3 1 >/dev/null
  for i in 1 2 3 4; do
    port=$((6310 + 10 * (i - 1) + k))
    "$SWIFT_VENV/bin/swift-ring-builder" "$SW/etc/$kind.builder" add "r1z$i-127.0.0.1:$port/sdb$i" 1 >/dev/null
    { swift_default_section "$port"; cat <<EOF
devices = $SW/node$i
mount_check = false
disable_fallocate = true
[pipeline:main]
pipeline = $kind-server
[app:$kind-server]
use = egg:swift#$kind
[$kind-replicator]
[$kind-auditor]
[$kind-updater]
[object-reconstructor]
EOF
    } >"$SW/etc/$kind-$i.conf"
  done
  "$SWIFT_VENV/bin/swift-ring-builder" "$SW/etc/$kind.builder" rebalance >/dev/null || true
done
# The middlewares Swiftlet's proxy runs on every request (bulk, tempurl, ratelimit, S3 on
# the same port, copy, both quotas, SLO, DLO, versioned writes; CORS is in Swift's proxy
# app), in the order of Swift's SAIO sample: a request costs both systems the same checks.
PIPELINE="catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit s3api tempauth copy container-quotas account-quotas slo dlo versioned_writes proxy-logging"
{ swift_default_section "$SWIFT_PROXY_PORT"; cat <<EOF
[pipeline:main]
pipeline = $PIPELINE proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test_tester2 = testing2 .admin
user_test_tester3 = testing3
user_test2_tester2 = testing2 .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:21211
EOF
} >"$SW/etc/proxy-server.conf"
# Every other filter needs no settings: its egg entry point is its name with '_' for '-'.
for f in $(tr ' ' '\n' <<<"$PIPELINE" | sort -u | grep -vx 'tempauth\|cache'); do
  printf '[filter:%s]\nuse = egg:swift#%s\n' "$f" "${f//-/_}" >>"$SW/etc/proxy-server.conf"
done
memcached -l 127.0.0.1 -p 21211 -U 0 -u root -m 64 &
PIDS+=($!)
for kind in object container account; do
  for i in 1 2 3 4; do
    "$SWIFT_VENV/bin/swift-$kind-server" "$SW/etc/$kind-$i.conf" >"$SW/$kind-$i.log" 2>&1 &
    PIDS+=($!)
  done
done
"$SWIFT_VENV/bin/swift-proxy-server" "$SW/etc/proxy-server.conf" >"$SW/proxy.log" 2>&1 &
PIDS+=($!)

# ---- Swiftlet saio --------------------------------------------------------------------
# Servers only, as the Swift SAIO above: no replicator, auditor or updater passes. (With
# them, saio's replicator rehashes the suffixes the PUT rounds touched every 30 s, and the
# workload that happens to run then loses a few seconds of CPU that Swift's side never
# pays. bench/heal_bench measures the replicators.)
"$BENCH_BIN/saio" --data-dir "$WORK/swiftlet" --proxy-port "$SWIFTLET_PROXY_PORT" --node-base-port "$SWIFTLET_NODE_PORT" \
  --no-cloud --no-daemons >"$WORK/saio.log" 2>&1 &
SAIO_PID=$!
PIDS+=($SAIO_PID)

wait_http() {
  for _ in $(seq 600); do
    curl -fs "http://127.0.0.1:$1/healthcheck" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no answer on port $1; logs:" >&2
  for f in "$SW"/*.log "$WORK/saio.log"; do echo "-- $f" >&2; tail -n 15 "$f" >&2; done
  exit 2
}
wait_http "$SWIFT_PROXY_PORT"
wait_http "$SWIFTLET_PROXY_PORT"
sleep 1
SWIFT_PIDS=$(pgrep -f "$SW/etc" | tr '\n' ' ')

# run <system> <name> <swiftlet-bench args...>: one workload on one system, JSON to results.
# Its container is bench-<name>, with -r<round> inside the rounds below.
ROUND=1
SUFFIX=
run() {
  local system=$1 name=$2
  shift 2
  local port pids
  if [ "$system" = swift ]; then port=$SWIFT_PROXY_PORT; pids=$SWIFT_PIDS; else port=$SWIFTLET_PROXY_PORT; pids=$SAIO_PID; fi
  local pid_args=()
  for p in $pids; do pid_args+=(--server-pid "$p"); done
  echo "== $system: $name" >&2
  "$BENCH_BIN/swiftlet-bench" --auth "http://127.0.0.1:$port/auth/v1.0" --label "$system" \
    --container "bench-$name$SUFFIX" "${pid_args[@]}" "$@" | tail -n 1 |
    sed "s/^{/{\"name\":\"$name\",\"round\":$ROUND,/" >>"$WORK/results.jsonl"
}

# Alternate which system goes first so neither always gets the warmer page cache.
both() {
  local name=$1
  shift
  if [ $((RANDOM % 2)) = 0 ]; then run swift "$name" "$@"; run swiftlet "$name" "$@"
  else run swiftlet "$name" "$@"; run swift "$name" "$@"; fi
}

for ROUND in $(seq "$ROUNDS"); do
  SUFFIX="-r$ROUND" # new objects each round: a PUT over an existing name is another workload
  both put4k --workload put --size 4096 -c "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP"
  both get4k --workload get --size 4096 --objects 1000 -c "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP"
  both head --workload head --size 4096 --objects 1000 -c "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP"
done
ROUND=1
SUFFIX=
# The disk's write rate again right before the large PUTs, writing as many bytes as one
# system's large-PUT phase does (4 objects x 3 replicas): this VM's disk absorbs a 1 GiB
# burst at up to twice its sustained rate, and the rate drifts over minutes, so the
# large-PUT fraction is given against both this and the first figure.
sync
"$BENCH_BIN/limits" --dir "$WORK" --write-only --write-bytes $((LARGE_MB * 12 << 20)) >"$WORK/limits-write.json"
cat "$WORK/limits-write.json" >&2
both largeput --workload large-put --size $((LARGE_MB << 20)) -c 2 --count 4
both largeget --workload large-get --size $((LARGE_MB << 20)) -c 2 --count 6 --objects 2

# The listing container: rows go straight into each system's container DB replicas
# (REPLICATE merge_items, the replicators' call, which both servers answer), since
# writing 100,000 objects through Swift's proxy would take about 20 minutes.
swift_container_nodes() { # partition, hash, then ip:port/device of each replica
  "$SWIFT_VENV/bin/python" - "$SW/etc" "$1" <<'PY'
import sys
from swift.common.utils import set_swift_dir, hash_path
from swift.common.ring import Ring
set_swift_dir(sys.argv[1])
part, nodes = Ring(sys.argv[1], ring_name="container").get_nodes("AUTH_test", sys.argv[2])
print(part, hash_path("AUTH_test", sys.argv[2]), " ".join("%s:%d/%s" % (n["ip"], n["port"], n["device"]) for n in nodes))
PY
}
swiftlet_container_nodes() {
  "$BENCH_BIN/ring-builder" "$WORK/swiftlet/etc/container.ring" get_nodes AUTH_test "$1" \
    --secret-file "$WORK/swiftlet/etc/secret.toml" |
    awk '/^Partition/ {p=$2} /^Hash/ {h=$2} /^Server:Port Device/ && !/Handoff/ {n=n" "$3"/"$4} END {print p, h, n}'
}
fill_listing() { # <system> <container>
  local system=$1 container=$2 port nodes token
  if [ "$system" = swift ]; then port=$SWIFT_PROXY_PORT; nodes=$(swift_container_nodes "$container")
  else port=$SWIFTLET_PROXY_PORT; nodes=$(swiftlet_container_nodes "$container"); fi
  token=$(curl -fsi -H "X-Auth-User: test:tester" -H "X-Auth-Key: testing" "http://127.0.0.1:$port/auth/v1.0" |
    tr -d '\r' | awk 'tolower($1) == "x-auth-token:" {print $2}')
  curl -fs -o /dev/null -X PUT -H "X-Auth-Token: $token" "http://127.0.0.1:$port/v1/AUTH_test/$container"
  set -- $nodes
  local part=$1 hash=$2 node_args=()
  shift 2
  for n in "$@"; do node_args+=(--node "$n"); done
  echo "== $system: filling $container with $LIST_OBJECTS rows (partition $part)" >&2
  local key=""
  [ "$system" = swiftlet ] && key=$(awk -F'"' '/^backend_key/ {print $2}' "$WORK/swiftlet/etc/secret.toml")
  SWIFTLET_BACKEND_KEY=$key "$BENCH_BIN/listing_fill" --partition "$part" --hash "$hash" "${node_args[@]}" --rows "$LIST_OBJECTS"
}
fill_listing swift bench-list
fill_listing swiftlet bench-list
# By duration, not count: the median then discounts the first, cold listing.
both list --workload list --size 0 --objects 0 -c 1 --duration "$DURATION" --page 1000

# The disk again after the runs (its rate drops after gigabytes of writes on this VM).
sync
sleep 5
"$BENCH_BIN/limits" --dir "$WORK" --keep-files --tcp-bytes $((1 << 30)) >"$WORK/limits-after.json"
cat "$WORK/limits-after.json" >&2

python3 - "$WORK/results.jsonl" "$WORK/limits.json" "$LIST_OBJECTS" "$WORK/limits-after.json" "$WORK/limits-write.json" <<'PY'
import json, sys, datetime, platform, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
limits = json.load(open(sys.argv[2]))
from statistics import median
runs = {}
for x in rows:
    runs.setdefault((x["label"], x["name"]), {})[x.get("round", 1)] = x
def get(sys_, name, key):
    """The system's median over the rounds."""
    vals = [x[key] for x in runs.get((sys_, name), {}).values() if x.get(key) is not None]
    return median(vals) if vals else None
def ratios(name, key, invert=False):
    """Swiftlet/Swift in each round (Swift/Swiftlet for lower-is-better figures)."""
    a, b = runs.get(("swiftlet", name), {}), runs.get(("swift", name), {})
    out = []
    for rnd in sorted(set(a) & set(b)):
        x, y = a[rnd].get(key), b[rnd].get(key)
        if x and y:
            out.append(y / x if invert else x / y)
    return out
def line(label, name, key, fmt="{:.1f}", invert=False):
    a, b = get("swiftlet", name, key), get("swift", name, key)
    rs = ratios(name, key, invert)
    ratio = "-"
    if rs:
        ratio = "{:.1f}x".format(median(rs))
        if len(rs) > 1:
            ratio += " (rounds: " + ", ".join("{:.1f}".format(v) for v in rs) + ")"
    fa = fmt.format(a) if a is not None else "-"
    fb = fmt.format(b) if b is not None else "-"
    print(f"| {label} | {fa} | {fb} | {ratio} |")
print(f"\nSwiftlet vs OpenStack Swift 2.38.3 -- {datetime.date.today()} on {platform.node()} ({os.cpu_count()} cores), 3 replicas, 4 devices")
nrounds = max((x.get("round", 1) for x in rows), default=1)
if nrounds > 1:
    print(f"4 KiB rows: each system's median of {nrounds} rounds; the ratio is the median of the per-round ratios")
print("| measure | Swiftlet | Swift | Swiftlet/Swift |")
print("|---|---|---|---|")
line("4 KiB PUT ops/s", "put4k", "ops_per_s")
line("4 KiB PUT p99 ms (lower is better)", "put4k", "p99_ms", "{:.1f}", invert=True)
line("4 KiB GET ops/s", "get4k", "ops_per_s")
line("4 KiB GET p99 ms (lower is better)", "get4k", "p99_ms", "{:.1f}", invert=True)
line("HEAD ops/s", "head", "ops_per_s")
line("HEAD p99 ms (lower is better)", "head", "p99_ms", "{:.1f}", invert=True)
line("large PUT MB/s", "largeput", "mb_per_s")
line("large GET MB/s", "largeget", "mb_per_s")
n = sys.argv[3]
a, b = get("swiftlet", "list", "p50_ms"), get("swift", "list", "p50_ms")
print(f"| {n}-object full listing s (lower is better) | {a/1e3:.3f} | {b/1e3:.3f} | {b/a:.1f}x |" if a and b else "| listing | - | - | - |")
for name, label in (("put4k", "PUT"), ("get4k", "GET")):
    line(f"server CPU s per 1000 {label} (lower is better)", name, "server_cpu_s_per_1000", "{:.2f}", invert=True)
errors = sum(x["errors"] for x in rows)
w = limits["fsync_write_mb_s"]
lp = get("swiftlet", "largeput", "mb_per_s") or 0
print(f"\nPhysical limits: fsynced sequential write {w:.0f} MB/s, 4 KiB create+fsync {limits['create_fsync_4k_per_s']:.0f} files/s, loopback TCP {limits['loopback_tcp_mb_s']:.0f} MB/s")
wn = json.load(open(sys.argv[5]))["fsync_write_mb_s"]
print(f"Swiftlet large PUT = {lp / (wn / 3) * 100:.0f}% of (fsynced write bandwidth / 3 replicas) with the write rate measured right before it ({wn:.0f} MB/s), {lp / (w / 3) * 100:.0f}% with the first; errors in all runs: {errors}")
after = json.load(open(sys.argv[4]))
print(f"The disk after the runs: fsynced sequential write {after['fsync_write_mb_s']:.0f} MB/s, 4 KiB create+fsync {after['create_fsync_4k_per_s']:.0f} files/s")
PY

if [ "${1:-}" = "--full" ]; then
  bench/ring-compare.sh --part-powers 16
  bench/listing-compare.sh
  cargo build --release -q -p bench --bin object_bench
  "$BENCH_BIN/object_bench" --dir "$WORK"
fi
