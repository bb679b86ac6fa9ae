# Sourced by the conformance runners: builds saio (the dev build CI has, or
# SWIFTLET_PROFILE=release; SWIFTLET_SAIO_BIN names one already built), starts a private
# copy on free ports with its data in a fresh temp dir, and sets WORK (that dir, removed
# on exit) and URL (the proxy's address).
# Exits 2 when the cluster does not start. Then `run_suite` runs the suite.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
PROFILE="${SWIFTLET_PROFILE:-dev}"
if [ -n "${SWIFTLET_SAIO_BIN:-}" ]; then
  BIN="$SWIFTLET_SAIO_BIN"  # a saio built elsewhere (another commit, to compare)
elif [ "$PROFILE" = release ]; then
  (cd "$ROOT" && cargo build --release -q --bin saio)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/saio"
else
  (cd "$ROOT" && cargo build -q --bin saio)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/saio"
fi
WORK="$(mktemp -d)"
# Run a private copy: another build in the shared target dir may relink the binary.
cp "$BIN" "$WORK/saio"
"$WORK/saio" --data-dir "$WORK/data" --proxy-port 0 --node-base-port 0 --no-cloud >"$WORK/saio.log" 2>&1 &
SAIO=$!
trap 'kill $SAIO 2>/dev/null; wait $SAIO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do
  grep -q ready "$WORK/saio.log" && break
  kill -0 $SAIO 2>/dev/null || { cat "$WORK/saio.log"; exit 2; }
  sleep 0.1
done
grep -q ready "$WORK/saio.log" || { echo "saio did not become ready" >&2; cat "$WORK/saio.log"; exit 2; }
URL="$(grep -o 'ready: proxy http://[0-9.:]*' "$WORK/saio.log" | head -1 | sed 's/.*proxy //')"
[ -n "$URL" ] || { echo "cannot find the proxy URL in the saio log" >&2; cat "$WORK/saio.log"; exit 2; }

# run_suite LABEL LOGNAME LIMIT COMMAND...: runs a suite's pytest COMMAND for at most LIMIT
# seconds with its output in $WORK/pytest.log; keeps that log and saio's in the cache
# ($CACHE/LOGNAME-last.log, $CACHE/LOGNAME-saio-last.log); prints the failures and LABEL
# with pytest's summary line. Exits 2 when the suite itself broke.
run_suite() {
  local label="$1" logname="$2" limit="$3"
  shift 3
  local status=0
  timeout "$limit" "$@" >"$WORK/pytest.log" 2>&1 || status=$?
  cp "$WORK/pytest.log" "$CACHE/$logname-last.log"
  cp "$WORK/saio.log" "$CACHE/$logname-saio-last.log"
  grep -E "^(FAILED|ERROR)" "$WORK/pytest.log" | head -"${SWIFTLET_SHOW_FAILURES:-60}" || true
  echo "$label: $(tail -n 1 "$WORK/pytest.log")"
  # pytest: 0 all passed, 1 some failed; anything else means the suite itself broke.
  if [ "$status" -gt 1 ]; then tail -n 30 "$WORK/pytest.log"; exit 2; fi
}
