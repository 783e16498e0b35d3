# Shared by benches/decide_ab.sh and benches/decide_rb.sh (source it; not a script of its own).

# decide_bench_exe DIR: build the tierwise-router `decide` bench from DIR's sources and print the
# absolute path of its executable.
decide_bench_exe() {
    local exe
    exe=$(cd "$1" && cargo bench -p tierwise-router --bench decide --no-run 2>&1 |
        sed -n 's/.*Executable .*(\(.*\))/\1/p' | tail -1)
    [ -n "$exe" ] || { echo "no bench executable built in $1" >&2; exit 1; }
    case $exe in /*) echo "$exe" ;; *) echo "$1/$exe" ;; esac
}

# criterion_medians SIDE: criterion's output on stdin, one line `SIDE BENCH MICROSECONDS` out per
# bench, with its median per prompt (decide_varied times 64 prompts an iteration).
criterion_medians() {
    awk -v side="$1" '
        /^decide\// { id = $1 }
        /time:/ && !/%/ {
            for (i = 1; i <= NF; i++) if ($i ~ /^\[/) { v = $(i + 2); u = $(i + 3); break }
            if (u == "ns") v /= 1000; else if (u == "ms") v *= 1000
            if (id ~ /decide_varied/) v /= 64
            print side, id, v
        }'
}
