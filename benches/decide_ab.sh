#!/usr/bin/env bash
# `Router::decide` now vs at an earlier commit, in one run: builds the criterion bench of
# tierwise-router at REV (in a temporary worktree) and at the working tree, then runs them in
# turn for ROUNDS rounds on one core and prints, per bench, the median of the rounds' medians.
# Shared machines are noisy; alternating rounds keeps the comparison fair.
# Usage: benches/decide_ab.sh REV [ROUNDS] [FILTER]
#   FILTER: criterion filter, default 'decide/(decide|decide_varied)/(200|500|2000|8000)$'
#   TIERWISE_BENCH_MODEL=dir benches another model than models/demo (both builds read it);
#   OLD_MODEL=dir gives REV's build its own model (when the artifact format changed since REV);
#   BENCH_CORE=n runs on core n (default: the last).
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: benches/decide_ab.sh REV [ROUNDS] [FILTER]}
ROUNDS=${2:-5}
FILTER=${3:-'decide/(decide|decide_varied)/(200|500|2000|8000)$'}
T=$(mktemp -d)
trap 'git worktree remove --force "$T/old" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT

source benches/criterion.sh
bench_bin() { # dir -> absolute path of the built bench executable, built from dir's sources
    # The two trees share fingerprints in the one target folder: newer sources force a rebuild.
    find "$1/crates" -name '*.rs' -exec touch {} +
    decide_bench_exe "$1"
}
git worktree add -q --detach "$T/old" "$REV"
# One target folder: the dependencies are built once (the two router crates differ by path).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
# Both builds write the same file name (cargo hashes the path relative to the workspace): copy.
cp "$(bench_bin "$T/old")" "$T/decide-old"
cp "$(bench_bin "$PWD")" "$T/decide-new"
old=$T/decide-old
new=$T/decide-new
for side in old new; do # each binary names the tree it was built from
    dir=$T/old
    [ "$side" = new ] && dir=$PWD
    grep -aq "$dir/crates/router" "$T/decide-$side" ||
        { echo "decide-$side was not built from $dir" >&2; exit 1; }
done
export TIERWISE_BENCH_MODEL=${TIERWISE_BENCH_MODEL:-$PWD/models/demo}
OLD_MODEL=${OLD_MODEL:-$TIERWISE_BENCH_MODEL}
core=${BENCH_CORE:-$(($(nproc) - 1))} # BENCH_CORE=n picks the core
for r in $(seq "$ROUNDS"); do
    for side in old new; do
        bin=$old model=$OLD_MODEL
        [ "$side" = new ] && bin=$new model=$TIERWISE_BENCH_MODEL
        TIERWISE_BENCH_MODEL=$model taskset -c "$core" "$bin" --bench --warm-up-time 1 --measurement-time 2 "$FILTER" 2>&1 |
            criterion_medians "$side"
    done
done | python3 -c '
import collections, statistics, sys
d = collections.defaultdict(list)
for line in sys.stdin:
    side, bench, v = line.split()
    d[bench, side].append(float(v))
print("| bench | before (µs per prompt) | after (µs per prompt) | after/before |")
print("|---|---|---|---|")
for bench in sorted({b for b, _ in d}):
    o, n = (statistics.median(d[bench, s]) if d[bench, s] else None for s in ("old", "new"))
    f = lambda x: "–" if x is None else f"{x:.2f}"
    ratio = f"{n / o:.2f}" if o and n else "–"
    print(f"| {bench} | {f(o)} | {f(n)} | {ratio} |")
'
