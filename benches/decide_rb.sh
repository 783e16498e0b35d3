#!/usr/bin/env bash
# `Router::decide` on a router trained on RouterBench's train split (3 tasks, 11 tiers, seed 7),
# next to the demo model in the same run: the demo's tokenizer and embedding table are small,
# a router trained on real logs has more rows than the caches hold. `decide_varied` routes
# windows of RouterBench's own prompts for the RouterBench router. Needs ../shared/datasets.
# Usage: benches/decide_rb.sh [FILTER]  (criterion filter, default the 2,000-character benches)
#   BENCH_CORE=n runs on core n (default: the last); TRAIN_ARGS="..." are added to `tierwise
#   train` (e.g. TRAIN_ARGS="--token-vectors DIR" for a router with pretrained token vectors).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/criterion.sh
D=../shared/datasets
[ -d "$D" ] || { echo "skipped: $D not found"; exit 0; }
FILTER=${1:-'decide/(decide|decide_varied)/2000$'}
cargo build -q --release -p tierwise
BIN=${CARGO_TARGET_DIR:-target}/release/tierwise
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$BIN import routerbench $D/routerbench/{arc_challenge,mbpp,winograde}_train.csv --out "$T/rb.jsonl" >/dev/null
$BIN train --logs "$T/rb.jsonl" --tiers datasets/routerbench/tiers.toml --out "$T/rb" --seed 7 ${TRAIN_ARGS:-} >/dev/null 2>&1
exe=$(decide_bench_exe "$PWD")
core=${BENCH_CORE:-$(($(nproc) - 1))}
python3 - "$T/rb" <<'PY'
import json, struct, sys
n = json.load(open(sys.argv[1] + "/router.json"))["network"]
# The embedding's dtype and bytes as stored (F16 from format version 3), from the safetensors header.
with open(sys.argv[1] + "/router.safetensors", "rb") as f:
    e = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["embedding"]
lo, hi = e["data_offsets"]
print(f"RouterBench router: {n['embedding_rows']} embedding rows x {n['dim']} wide "
      f"({e['dtype']}, {(hi - lo) / 1e6:.1f} MB), {n['hidden']} hidden units")
PY
for side in demo rb; do
    if [ "$side" = rb ]; then
        export TIERWISE_BENCH_MODEL=$T/rb TIERWISE_BENCH_PROMPTS=$T/rb.jsonl
    fi
    taskset -c "$core" "$exe" --bench --warm-up-time 1 --measurement-time 3 "$FILTER" 2>&1 |
        criterion_medians "$side" |
        awk '{ printf "%-5s %-28s %8.2f µs per prompt (median)\n", $1, $2, $3 }'
done
