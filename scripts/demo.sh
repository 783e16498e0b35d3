#!/usr/bin/env bash
# The main job on the synthetic demo workload (datasets/demo, made by `tierwise demo --seed 42`):
# dashboard -> train -> route -> held-out eval -> CI gate. Needs only Rust.
# Uses the dev profile (dependencies are optimised there) so it shares its build with `cargo test`.
# Exits non-zero when the gate fails.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
    echo "+ tierwise $*" >&2
    cargo run --quiet -p tierwise -- "$@"
}

tiers=datasets/demo/tiers.toml
run stats --logs datasets/demo/train.jsonl --tiers "$tiers"
run train --logs datasets/demo/train.jsonl --tiers "$tiers" --out models/demo --seed 7 --buckets 65536

# Route a few held-out prompts the router never saw.
mkdir -p reports/demo
awk 'NR % 4 == 1 && ++n <= 5' datasets/demo/heldout.jsonl > reports/demo/prompts.jsonl
run route --model models/demo --input reports/demo/prompts.jsonl --output reports/demo/decisions.jsonl
cut -c1-200 reports/demo/decisions.jsonl

run eval --model models/demo --logs datasets/demo/heldout.jsonl --out reports/demo
run gate --report reports/demo/report.json --gate evals/gate.toml
