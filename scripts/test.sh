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

# Upstream binaries the compatibility tests run against (Debian's packages).
need_pkgs=()
command -v promtool >/dev/null || need_pkgs+=(prometheus)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "== installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# With the upstream binaries installed, the compatibility tests must run, not skip.
export PM_REQUIRE_UPSTREAM=1

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
