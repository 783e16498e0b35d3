#!/usr/bin/env bash
# The main job on the synthetic demo workload (datasets/demo, made by `tierwise demo --seed 42`).
# Needs only Rust. Today: the cost/quality dashboard; train -> eval -> gate join as they land.
# Uses the dev profile (dependencies are optimised there) so it shares its build with `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
    echo "+ tierwise $*" >&2
    cargo run --quiet -p tierwise -- "$@"
}

run stats --logs datasets/demo/train.jsonl --tiers datasets/demo/tiers.toml
run stats --logs datasets/demo/train.jsonl --tiers datasets/demo/tiers.toml --by feature
