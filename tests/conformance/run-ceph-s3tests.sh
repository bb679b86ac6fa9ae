#!/usr/bin/env bash
# Runs ceph/s3-tests (s3tests/functional/test_s3.py) against a fresh saio and prints its
# pass/fail/skip counts. Not part of CI: a conformance measure, about 26 minutes on this 2-core machine (dev build).
#   tests/conformance/run-ceph-s3tests.sh [pytest args, e.g. -k multipart]
# S3TESTS_DIR names a checkout to use (default: the pinned commit, cloned into
# ~/.cache/swiftlet); SWIFTLET_CEPH_VENV the venv (default: in ~/.cache/swiftlet).
# Exit status: 0 when the suite ran (whatever it counted), 2 when it could not run.
set -euo pipefail
COMMIT=8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3
CACHE="${SWIFTLET_CACHE:-$HOME/.cache/swiftlet}"
VENV="${SWIFTLET_CEPH_VENV:-$CACHE/venv-ceph-s3tests}"
SRC="${S3TESTS_DIR:-$CACHE/s3-tests-$COMMIT}"
mkdir -p "$CACHE"
if [ ! -f "$SRC/s3tests/functional/test_s3.py" ]; then
  git clone -q https://github.com/ceph/s3-tests "$SRC"
  git -C "$SRC" checkout -q "$COMMIT"
fi
if [ ! -x "$VENV/bin/pytest" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$SRC/requirements.txt"
fi

source "$(dirname "$0")/saio.sh"

HOSTPORT="${URL#http://}"
# Three S3 users in three accounts (main, alt, tenant), as the suite wants them; the owner
# id S3 shows is the access key. The IAM sections are required but unused by test_s3.py.
cat >"$WORK/s3tests.conf" <<CONF
[DEFAULT]
host = ${HOSTPORT%:*}
port = ${HOSTPORT##*:}
is_secure = False
ssl_verify = False

[fixtures]
bucket prefix = s3t-{random}-

[s3 main]
display_name = test:tester
user_id = test:tester
email = tester@example.com
api_name = default
access_key = test:tester
secret_key = testing

[s3 alt]
display_name = test2:tester2
user_id = test2:tester2
email = tester2@example.com
access_key = test2:tester2
secret_key = testing2

[s3 tenant]
display_name = test5:tester5
user_id = test5:tester5
email = tester5@example.com
access_key = test5:tester5
secret_key = testing5
tenant = test5

[iam]
email = admin@example.com
user_id = admin:admin
access_key = admin:admin
secret_key = admin
display_name = admin:admin

[iam root]
access_key = admin:admin
secret_key = admin
user_id = admin:admin
email = admin@example.com

[iam alt root]
access_key = admin:admin
secret_key = admin
user_id = admin:admin
email = admin@example.com
CONF

cd "$SRC"
[ $# -eq 0 ] && set -- s3tests/functional/test_s3.py
run_suite "ceph s3-tests ($COMMIT)" ceph-s3tests "${SWIFTLET_CEPH_TIMEOUT:-2400}" \
  env S3TEST_CONF="$WORK/s3tests.conf" "$VENV/bin/pytest" -q -p no:cacheprovider -rfEs "$@"
