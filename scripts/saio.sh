#!/usr/bin/env bash
# Starts the all-in-one cluster: installs what is missing, builds, runs `saio` in the
# foreground (Ctrl-C stops it). Arguments go to saio (see `scripts/saio.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec cargo run --release -q --bin saio -- "$@"
