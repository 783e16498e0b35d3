#!/usr/bin/env bash
# The router's tests on aarch64 under qemu: the portable paths that x86-64 never takes (byte-table
# class masks instead of SSE2, no AVX2 builds) against the same references, bit for bit.
# Installs what it needs: the Rust target (rustup) and Debian's qemu-user and aarch64 gcc.
# Usage: scripts/test-aarch64.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
T=aarch64-unknown-linux-gnu
rustup target list --installed | grep -qx "$T" || rustup target add "$T"
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    apt-get install -y -q qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/cross cargo test -p tierwise-router --target "$T" "$@"
