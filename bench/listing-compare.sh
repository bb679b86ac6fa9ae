#!/usr/bin/env bash
# Swiftlet's container server against OpenStack Swift's (swift==2.38.3), in one run:
# 1,000,000 object rows into one container through each server's HTTP API with 32
# concurrent clients, then the full listing, a prefix listing and a delimiter listing,
# printing rates, latencies, CPU, memory and the ratios.
#
#   bench/listing-compare.sh                        # Swiftlet 1,000,000 rows, Swift 200,000
#   bench/listing-compare.sh --swift-rows 1000000   # Swift at the full size too (~slow)
#   bench/listing-compare.sh --rows 100000 --swift-rows 20000    # a quick run
#   SWIFT_CONTAINER_SERVER=/path/to/swift-container-server bench/listing-compare.sh
#
# Swift is far slower at inserting rows, so by default it gets 200,000 rows and its
# rates are compared per row; the table also prints Swift's projected time for the full
# size at its measured rate.
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
SWIFT_BIN=$(swift_command "${SWIFT_CONTAINER_SERVER:-}" swift-container-server)
cargo build --release -q -p container-server --bin container-server -p bench --bin listing_bench
exec $BENCH_BIN/listing_bench --container-server $BENCH_BIN/container-server --swift-server "$SWIFT_BIN" "$@"
