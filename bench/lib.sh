# Sourced by the bench scripts: where release binaries land, and OpenStack Swift in a venv.
BENCH_BIN="${CARGO_TARGET_DIR:-target}/release"
SWIFT_VENV=bench/.venv-swift
SWIFT_VERSION=2.38.3

# Creates $SWIFT_VENV with swift==$SWIFT_VERSION unless it is already there.
ensure_swift_venv() {
  if [ ! -x "$SWIFT_VENV/bin/swift-ring-builder" ]; then
    echo "bench: creating $SWIFT_VENV with swift==$SWIFT_VERSION" >&2
    python3 -m venv "$SWIFT_VENV"
    echo '*' > "$SWIFT_VENV/.gitignore"   # never commit the venv
    "$SWIFT_VENV/bin/pip" install -q --disable-pip-version-check "swift==$SWIFT_VERSION" python-swiftclient
  fi
}
