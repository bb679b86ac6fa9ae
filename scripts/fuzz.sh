#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time over its committed corpus
# (fuzz/corpus/<target>); new inputs go to a scratch dir, so the corpus changes only when
# someone commits a minimized one (`scripts/fuzz.sh --grow` adds this run's finds to it).
#   scripts/fuzz.sh [--grow] [TARGET...]     FUZZ_SECONDS per target (default 20)
# Exit 1 when a target crashes, panics or exceeds its memory limit; the reproducer is left
# in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
grow=0
if [ "${1:-}" = "--grow" ]; then grow=1; shift; fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz >/dev/null
seconds="${FUZZ_SECONDS:-20}"
# cargo-fuzz passes libFuzzer's instrumentation flags; the sanitizer ones need nightly
# features, which stable rustc allows with RUSTC_BOOTSTRAP. Safe Rust needs no AddressSanitizer:
# panics, overflows (debug assertions are on) and runaway memory are what we look for.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/fuzz}"
cd fuzz
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build -s none --debug-assertions "${targets[@]:0:1}" >/dev/null 2>&1 || true
failed=0
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if cargo fuzz run -s none --debug-assertions "$t" "$scratch" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 >"$log" 2>&1; then
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1 | grep -Eo '[0-9]+' || echo "?")
    echo "fuzz $t: ok, $runs executions in ${seconds}s"
    if ((grow)); then cp -n "$scratch"/* "corpus/$t/" 2>/dev/null || true; fi
  else
    echo "fuzz $t: FAILED" >&2
    tail -40 "$log" >&2
    failed=1
  fi
  rm -rf "$scratch" "$log"
done
exit "$failed"
