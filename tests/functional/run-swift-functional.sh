#!/usr/bin/env bash
# Runs OpenStack Swift's own API conformance suite (test/functional from the `swift` sdist,
# including tests.py and the S3 tests of test/functional/s3api, as Swift's own runner does)
# against a fresh saio, and prints its pass/fail/skip counts.
#   tests/functional/run-swift-functional.sh [pytest args, e.g. test/functional/test_slo.py]
# SWIFTLET_PROFILE=release uses a release build of saio (default: the dev build CI has).
# Exit status: 0 when the suite ran (whatever it counted), 2 when it could not run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SWIFT_VERSION=2.38.3
CACHE="${SWIFTLET_CACHE:-$HOME/.cache/swiftlet}"
# The venv lives in the cache so CI on a fresh clone does not reinstall Swift every run.
VENV="${SWIFTLET_FUNC_VENV:-$CACHE/venv-functional-$SWIFT_VERSION}"
mkdir -p "$CACHE"

if [ ! -x "$VENV/bin/pytest" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "swift==$SWIFT_VERSION" pytest python-swiftclient
fi
# test/functional/s3api drives the S3 API with boto3 (older venvs lack it).
"$VENV/bin/python" -c 'import boto3' 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check boto3
SDIST="$CACHE/swift-$SWIFT_VERSION"
if [ ! -d "$SDIST/test/functional" ]; then
  "$VENV/bin/pip" download -q --no-deps --no-binary :all: "swift==$SWIFT_VERSION" -d "$CACHE"
  tar xzf "$CACHE/swift-$SWIFT_VERSION.tar.gz" -C "$CACHE"
fi

source "$ROOT/tests/conformance/saio.sh"

# The users of the default tempauth config; account6 is the reseller admin, as in Swift's
# own in-process functional setup (it unlocks the account quota admin tests).
cat >"$WORK/test.conf" <<CONF
[func_test]
auth_uri = $URL/auth/v1.0
account = test
username = tester
password = testing
account2 = test2
username2 = tester2
password2 = testing2
username3 = tester3
password3 = testing3
s3_storage_url = $URL/
s3_access_key = test:tester
s3_secret_key = testing
s3_access_key2 = test:tester2
s3_secret_key2 = testing2
s3_access_key3 = test:tester3
s3_secret_key3 = testing3
account6 = admin
username6 = admin
password6 = admin
collate = C
CONF

cd "$SDIST"
# Swift runs its suite with stestr, which also collects tests.py; pytest needs telling.
[ $# -eq 0 ] && set -- test/functional
run_suite "swift functional suite ($SWIFT_VERSION)" functional "${SWIFTLET_FUNC_TIMEOUT:-1500}" \
  env SWIFT_TEST_CONFIG_FILE="$WORK/test.conf" SWIFT_TEST_IN_PROCESS=0 "$VENV/bin/pytest" -q -p no:cacheprovider \
  -o addopts="" -o python_files="test_*.py tests.py" -rfEs "$@"
