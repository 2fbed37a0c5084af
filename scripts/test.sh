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

# What the tests need from outside Cargo: each file in scripts/deps/ appends Debian packages
# (upstream daemons to compare with, real servers to test against) to APT_PACKAGES and PyPI
# packages (real client libraries) to PIP_PACKAGES. Only what is missing is installed.
APT_PACKAGES=()
PIP_PACKAGES=()
for deps in scripts/deps/*.sh; do
    # shellcheck source=/dev/null
    . "$deps"
done
need_pkgs=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "== installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
if [ ${#PIP_PACKAGES[@]} -gt 0 ]; then
    echo "== pip install ${PIP_PACKAGES[*]}"
    python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
fi
# With the upstream binaries installed, the compatibility tests must run, not skip.
export PM_REQUIRE_UPSTREAM=1

echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
