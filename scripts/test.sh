#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints and every test in the workspace.
# This is the command README.md names and the one CI runs (.ci/run). It installs what the tests
# need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

testdata="../shared/testdata"
if [ ! -d "$testdata" ]; then
    echo "error: upstream conformance data not found at $(cd .. && pwd)/shared/testdata" >&2
    exit 1
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
