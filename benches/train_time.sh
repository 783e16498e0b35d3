#!/usr/bin/env bash
# Wall time of `tierwise train` on the RouterBench train split (3 tasks, 11 tiers) and on the
# RouteLLM MMLU split, with the import done first (not timed). Needs ../shared/datasets.
# TRAIN_ARGS adds flags to `tierwise train` (e.g. TRAIN_ARGS=--no-linear).
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/datasets
[ -d "$D" ] || { echo "skipped: $D not found"; exit 0; }
cargo build -q -p tierwise
BIN=${CARGO_TARGET_DIR:-target}/debug/tierwise
T=$(mktemp -d)
$BIN import routerbench $D/routerbench/{arc_challenge,mbpp,winograde}_train.csv --out $T/rb.jsonl >/dev/null
$BIN import routellm $D/routellm/mmlu/*.csv --tiers datasets/routellm/tiers.toml --out $T/mmlu.jsonl >/dev/null
echo "threads: $(nproc)"
for set in "rb datasets/routerbench/tiers.toml" "mmlu datasets/routellm/tiers.toml"; do
  read -r name tiers <<<"$set"
  /usr/bin/time -f "$name: %e s wall, %U s user, %M KB max RSS" \
    $BIN train --logs $T/$name.jsonl --tiers $tiers --out $T/model-$name ${TRAIN_ARGS:-} >/dev/null
done
rm -rf "$T"
