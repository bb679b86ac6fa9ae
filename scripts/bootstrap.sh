#!/usr/bin/env bash
# Installs what building and testing Swiftlet needs on a fresh Debian machine, and nothing
# that is already there. Shared by scripts/test.sh, scripts/saio.sh and .ci/run.
#   scripts/bootstrap.sh            Debian build packages only
#   scripts/bootstrap.sh --python   also the test venv (.venv) with the real clients, and the
#                                   AWS SDK for JavaScript in tests/js/node_modules (npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-system-x86 and qemu-utils (qemu-img, which inspects every disk image before qemu may
# open it): the compute service's qemu driver and its test (tests/tests/cloud_qemu.rs).
# rclone and restic: S3 clients of tests/tests/s3_clients.rs.
APT_PACKAGES=(libclang-dev librocksdb-dev libsnappy-dev libsqlite3-dev pkg-config attr qemu-system-x86 qemu-utils
  rclone restic)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--python" ]; then
  REQS=scripts/requirements-test.txt
  if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv" >&2
    python3 -m venv .venv
  fi
  # Reinstall only when the requirements change.
  stamp=".venv/.swiftlet-$(sha1sum "$REQS" | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/pip install -q --disable-pip-version-check -r "$REQS"
    touch "$stamp"
  fi
  # The AWS SDK for JavaScript v3, pinned by tests/js/package.json and its lock file;
  # reinstalled only when they change. node itself comes from the machine (node >= 18).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "bootstrap: installing nodejs and npm" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  JS=tests/js
  jstamp="$JS/node_modules/.swiftlet-$(cat "$JS/package.json" "$JS/package-lock.json" | sha1sum | cut -c1-12)"
  if [ ! -f "$jstamp" ]; then
    (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$jstamp"
  fi
fi
