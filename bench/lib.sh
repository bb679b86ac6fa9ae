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

# swift_command <override> <name>: the Swift command a comparison runs: the override when
# the caller set one, else <name> from the bench venv (made when missing).
swift_command() {
  if [ -n "$1" ]; then
    echo "$1"
  else
    ensure_swift_venv >&2
    echo "$SWIFT_VENV/bin/$2"
  fi
}

# swift_default_section <port>: the [DEFAULT] section of every Swift server config the
# comparisons write (one worker, this user, quiet logs, rings in $SW/etc).
swift_default_section() {
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 1
user = $(id -un)
swift_dir = $SW/etc
log_level = WARNING
EOF
}

# start_saio <saio binary> <work dir> <proxy port> <first node port> [saio args...]: a fresh
# saio (no cloud services) with its data in <work dir>/data; sets SAIO to its pid, removes
# <work dir> on exit, and returns once it is ready (or prints its log and exits).
start_saio() {
  local bin=$1 work=$2 port=$3 node_port=$4
  shift 4
  "$bin" --data-dir "$work/data" --proxy-port "$port" --node-base-port "$node_port" --no-cloud "$@" \
    >"$work/saio.log" 2>&1 &
  SAIO=$!
  trap "kill $SAIO 2>/dev/null; wait $SAIO 2>/dev/null; rm -rf '$work'" EXIT
  for _ in $(seq 300); do grep -q "saio ready" "$work/saio.log" && break; sleep 0.1; done
  grep -q "saio ready" "$work/saio.log" || { cat "$work/saio.log"; exit 1; }
}
