#!/usr/bin/env bash
# Runs OpenStack Swift's S3 API tests (test/s3api from the `swift` sdist, with current
# boto3 and awscrt, as its `tox -e s3api` does) against a fresh saio and prints their
# pass/fail/skip counts. Not part of CI: a conformance measure, one to two minutes (dev build).
#   tests/conformance/run-swift-s3api.sh [pytest args, e.g. test/s3api/test_mpu.py]
# SWIFTLET_S3API_VENV names the venv (default: in ~/.cache/swiftlet).
# Exit status: 0 when the suite ran (whatever it counted), 2 when it could not run.
set -euo pipefail
SWIFT_VERSION=2.38.3
CACHE="${SWIFTLET_CACHE:-$HOME/.cache/swiftlet}"
VENV="${SWIFTLET_S3API_VENV:-$CACHE/venv-s3api-$SWIFT_VERSION}"
mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/pytest" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "swift==$SWIFT_VERSION" boto3 awscrt pytest
fi
SDIST="$CACHE/swift-$SWIFT_VERSION"
if [ ! -d "$SDIST/test/s3api" ]; then
  "$VENV/bin/pip" download -q --no-deps --no-binary :all: "swift==$SWIFT_VERSION" -d "$CACHE"
  tar xzf "$CACHE/swift-$SWIFT_VERSION.tar.gz" -C "$CACHE"
fi

source "$(dirname "$0")/saio.sh"

# Swift's sample users: the first two own the account, the third has no rights in it.
cat >"$WORK/test.conf" <<CONF
[s3api_test]
endpoint = $URL
region = us-east-1
access_key1 = test:tester
secret_key1 = testing
access_key2 = test:tester2
secret_key2 = testing2
access_key3 = test:tester3
secret_key3 = testing3
# S3's own per-object ACLs are not kept (bucket ACLs are Swift's container ACLs).
s3_acl_tests_enabled = False
CONF

cd "$SDIST"
[ $# -eq 0 ] && set -- test/s3api
run_suite "swift s3api tests ($SWIFT_VERSION)" s3api "${SWIFTLET_S3API_TIMEOUT:-1200}" \
  env SWIFT_TEST_CONFIG_FILE="$WORK/test.conf" "$VENV/bin/pytest" -q -p no:cacheprovider -o addopts="" -rfEs "$@"
