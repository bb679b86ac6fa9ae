#!/usr/bin/env bash
# Installs what building and testing Swiftlet needs on a fresh Debian machine, and nothing
# that is already there. Shared by scripts/test.sh, scripts/saio.sh and .ci/run.
#   scripts/bootstrap.sh            Debian build packages only
#   scripts/bootstrap.sh --python   also the test venv (.venv) with the real clients
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-system-x86 and qemu-utils (qemu-img, which inspects every disk image before qemu may
# open it): the compute service's qemu driver and its test (tests/tests/cloud_qemu.rs).
APT_PACKAGES=(libclang-dev librocksdb-dev libsnappy-dev libsqlite3-dev pkg-config attr qemu-system-x86 qemu-utils)

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
fi
