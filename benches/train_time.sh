#!/usr/bin/env bash
# Wall time of `tierwise train` (dev profile, as scripts/demo.sh runs it) on the RouterBench
# train split (3 tasks, 11 tiers) and on the RouteLLM MMLU split, with the import done first (not
# timed). Needs ../shared/datasets.
# Usage: benches/train_time.sh [REV] [ROUNDS]
#   without REV: the working tree's build, ROUNDS runs (default 1);
#   with REV: REV's build (in a temporary worktree) and the working tree's in turn for ROUNDS
#   rounds (default 3), then per set the median wall and CPU time of each. Shared machines are
#   noisy; alternating rounds keeps the comparison fair.
#   TRAIN_ARGS adds flags to `tierwise train` (e.g. TRAIN_ARGS=--no-linear), to both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/datasets
[ -d "$D" ] || { echo "skipped: $D not found"; exit 0; }
REV=${1:-}
ROUNDS=${2:-$([ -n "$REV" ] && echo 3 || echo 1)}
T=$(mktemp -d)
trap 'git worktree remove --force "$T/old" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
# One target folder (dependencies built once); the trees share fingerprints there, so newer
# sources force each rebuild, and each binary is copied out (two identical ones mean a build
# did not happen).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
build() { # DIR OUT: DIR's dev build of tierwise, copied to OUT
    find "$1/crates" -name '*.rs' -exec touch {} +
    (cd "$1" && cargo build -q -p tierwise)
    cp "$CARGO_TARGET_DIR/debug/tierwise" "$2"
}
sides=new
if [ -n "$REV" ]; then
    git worktree add -q --detach "$T/old" "$REV"
    build "$T/old" "$T/tierwise-old"
    sides="old new"
fi
build "$PWD" "$T/tierwise-new"
if [ -n "$REV" ] && cmp -s "$T/tierwise-old" "$T/tierwise-new"; then
    echo "$REV's build and the working tree's are the same binary" >&2
    exit 1
fi
BIN=$T/tierwise-new
$BIN import routerbench $D/routerbench/{arc_challenge,mbpp,winograde}_train.csv --out $T/rb.jsonl >/dev/null
$BIN import routellm $D/routellm/mmlu/*.csv --tiers datasets/routellm/tiers.toml --out $T/mmlu.jsonl >/dev/null
echo "threads: $(nproc)"
for r in $(seq "$ROUNDS"); do
    for side in $sides; do
        for set in "rb datasets/routerbench/tiers.toml" "mmlu datasets/routellm/tiers.toml"; do
            read -r name tiers <<<"$set"
            /usr/bin/time -f "$side $name %e %U %M" -o "$T/time" \
                "$T/tierwise-$side" train --logs "$T/$name.jsonl" --tiers "$tiers" \
                --out "$T/model-$side-$name" ${TRAIN_ARGS:-} >/dev/null 2>&1
            cat "$T/time"
            read -r _ _ wall cpu rss <"$T/time"
            echo "$side $name: $wall s wall, $cpu s CPU, $rss KB max RSS" >&2
        done
    done
done | python3 -c '
import collections, statistics, sys
d = collections.defaultdict(list)
for line in sys.stdin:
    side, name, wall, cpu, _ = line.split()
    d[name, side].append((float(wall), float(cpu)))
sides = sorted({s for _, s in d}, key=["old", "new"].index)
print("| set | " + " | ".join(f"{s}: wall / CPU (s)" for s in sides) + " |")
print("|---" * (len(sides) + 1) + "|")
for name in ["rb", "mmlu"]:
    cells = []
    for s in sides:
        runs = d[name, s]
        cells.append(f"{statistics.median(w for w, _ in runs):.2f} / {statistics.median(c for _, c in runs):.2f}")
    print(f"| {name} ({len(d[name, sides[0]])} runs, medians) | " + " | ".join(cells) + " |")
'
