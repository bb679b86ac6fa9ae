#!/usr/bin/env bash
# Runs OpenStack Swift's own API conformance suite (test/functional from the `swift` sdist)
# against a fresh saio, and prints its pass/fail/skip counts.
#   tests/functional/run-swift-functional.sh [pytest args...]
# Exit status: 0 when the suite ran (whatever it counted), 2 when it could not run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SWIFT_VERSION=2.38.3
CACHE="${SWIFTLET_CACHE:-$HOME/.cache/swiftlet}"
VENV="$ROOT/.venv-functional"
mkdir -p "$CACHE"

if [ ! -x "$VENV/bin/pytest" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "swift==$SWIFT_VERSION" pytest python-swiftclient
fi
SDIST="$CACHE/swift-$SWIFT_VERSION"
if [ ! -d "$SDIST/test/functional" ]; then
  "$VENV/bin/pip" download -q --no-deps --no-binary :all: "swift==$SWIFT_VERSION" -d "$CACHE"
  tar xzf "$CACHE/swift-$SWIFT_VERSION.tar.gz" -C "$CACHE"
fi

scripts/bootstrap.sh
cargo build --release -q --bin saio
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/saio"
WORK="$(mktemp -d)"
PORT="${SWIFTLET_FUNC_PORT:-18080}"
"$BIN" --data-dir "$WORK/data" --proxy-port "$PORT" --node-base-port 16210 >"$WORK/saio.log" 2>&1 &
SAIO=$!
trap 'kill $SAIO 2>/dev/null; wait $SAIO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  grep -q ready "$WORK/saio.log" && break
  kill -0 $SAIO 2>/dev/null || { cat "$WORK/saio.log"; exit 2; }
  sleep 0.1
done
grep -q ready "$WORK/saio.log" || { echo "saio did not become ready" >&2; cat "$WORK/saio.log"; exit 2; }

cat >"$WORK/test.conf" <<CONF
[func_test]
auth_uri = http://127.0.0.1:$PORT/auth/v1.0
account = test
username = tester
password = testing
account2 = test2
username2 = tester2
password2 = testing2
username3 = tester3
password3 = testing3
collate = C
CONF

cd "$SDIST"
set +e
SWIFT_TEST_CONFIG_FILE="$WORK/test.conf" SWIFT_TEST_IN_PROCESS=0 \
  timeout 1500 "$VENV/bin/pytest" test/functional -q -p no:cacheprovider --ignore=test/functional/s3api \
  -o addopts="" -rs "$@" >"$WORK/pytest.log" 2>&1
cp "$WORK/pytest.log" "$CACHE/functional-last.log"
status=$?
set -e
tail -n 40 "$WORK/pytest.log" | grep -E "^(FAILED|ERROR)" | head -40 || true
summary="$(tail -n 1 "$WORK/pytest.log")"
echo "swift functional suite ($SWIFT_VERSION): $summary"
# pytest: 0 all passed, 1 some failed; anything else means the suite itself broke.
if [ $status -gt 1 ]; then tail -n 30 "$WORK/pytest.log"; exit 2; fi
