#!/usr/bin/env bash
# Builds the workspace in release mode and starts the stack on local defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --locked
echo "Built. No daemon binary exists yet: the foundation crates (pm-common, pm-gotmpl,"
echo "pm-storage, pm-promql) are libraries. See docs/status.md for what is implemented."
