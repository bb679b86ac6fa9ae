#!/usr/bin/env bash
# Swiftlet's ring-builder against OpenStack Swift's swift-ring-builder: the same steps
# (create, add 1000 devices over 5 zones, rebalance) at part power 16 and 20, in one run,
# printing time, peak memory, balance, dispersion and the ratios; then Swiftlet's
# library-level numbers (ring load time, lookup latency, moves when a device is added).
#
#   bench/ring-compare.sh                      # both part powers (Swift at 20 takes ~100 s)
#   bench/ring-compare.sh --part-powers 16     # any ring_bench option passes through
#   SWIFT_RING_BUILDER=/path/to/swift-ring-builder bench/ring-compare.sh   # reuse an install
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
SWIFT_BIN=$(swift_command "${SWIFT_RING_BUILDER:-}" swift-ring-builder)
cargo build --release -q -p swiftlet-ring --bin ring-builder -p bench --bin ring_bench
exec $BENCH_BIN/ring_bench --ring-builder $BENCH_BIN/ring-builder --swift "$SWIFT_BIN" "$@"
