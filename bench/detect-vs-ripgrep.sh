#!/usr/bin/env bash
# Text detection throughput: shuan-detect's TextScanner (validating every type) against
# ripgrep `rg -o` over a union of simple patterns, on the same generated corpus.
#
# Usage: bench/detect-vs-ripgrep.sh [MB] [RUNS]      (defaults: 100 MB, best of 3 runs)
# Both tools print one line per match/finding to a pipe counted by `wc -l` (ripgrep quits
# early when its output is /dev/null, so neither writes there). Both are single-threaded
# here: ripgrep searches one file with one thread.
set -euo pipefail

MB="${1:-100}"
RUNS="${2:-3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if ! command -v rg >/dev/null 2>&1; then
    echo "ripgrep not found; installing it (apt-get install -y ripgrep)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y ripgrep >&2; else sudo apt-get install -y ripgrep >&2; fi
fi

echo "building the scanner and the corpus generator (release)..." >&2
(cd "$ROOT" && cargo build --release -q -p shuan-detect --example scan_file --example gen_corpus)
"$TARGET/release/examples/gen_corpus" "$WORK/corpus.txt" "$MB" 7 2>/dev/null
BYTES=$(stat -c %s "$WORK/corpus.txt")
cat "$WORK/corpus.txt" > /dev/null # warm the page cache for both tools

# One simple pattern per detector family the scanner validates.
PATTERNS=(
    -e '1[3-9][0-9]{9}'                                                   # mobile
    -e '[1-9][0-9]{16}[0-9Xx]'                                            # resident ID
    -e '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'                   # email
    -e '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}'                   # IPv4
    -e '6[0-9]{15,18}'                                                    # bank card
    -e '[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}'            # USCC
    -e '[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}' # plate
    -e '[A-HJ-NPR-Z0-9]{17}'                                              # VIN
    -e '([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}'                            # MAC
    -e '[EGC][0-9]{8}'                                                    # passport / permit
    -e '0[0-9]{2,3}-[0-9]{7,8}'                                           # landline
)

# best_of CMD...: prints "wall_seconds cpu_seconds matches", each the best of $RUNS runs
# (CPU = user + sys of the pipeline; on a busy machine it is steadier than wall time).
best_of() {
    local best_wall="" best_cpu="" count=0 wall cpu
    for _ in $(seq "$RUNS"); do
        { TIMEFORMAT='%R %U %S'; time "$@" | wc -l > "$WORK/count"; } 2> "$WORK/time"
        count=$(cat "$WORK/count")
        read -r wall user sys < <(tail -1 "$WORK/time")
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
        if [ -z "$best_wall" ] || awk -v x="$wall" -v y="$best_wall" 'BEGIN { exit !(x < y) }'; then best_wall=$wall; fi
        if [ -z "$best_cpu" ] || awk -v x="$cpu" -v y="$best_cpu" 'BEGIN { exit !(x < y) }'; then best_cpu=$cpu; fi
    done
    echo "$best_wall $best_cpu $count"
}

scan() { "$TARGET/release/examples/scan_file" "$1" 2>/dev/null; }

read -r RG_T RG_C RG_N < <(best_of rg -o "${PATTERNS[@]}" "$WORK/corpus.txt")
read -r SD_T SD_C SD_N < <(best_of scan "$WORK/corpus.txt")
# Peak memory of the scanner (it streams in 4 MiB blocks, so this does not grow with size).
SD_RSS="n/a"
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$WORK/rss" "$TARGET/release/examples/scan_file" "$WORK/corpus.txt" > /dev/null 2>&1
    SD_RSS=$(tail -1 "$WORK/rss")
fi

awk -v bytes="$BYTES" -v rt="$RG_T" -v rc="$RG_C" -v rn="$RG_N" -v st="$SD_T" -v sc="$SD_C" -v sn="$SD_N" \
    -v rss="$SD_RSS" -v runs="$RUNS" -v cores="$(nproc)" -v loadavg="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    mb = bytes / 1e6
    printf "corpus: %.1f MB (generated, seed 7); best of %d runs; %d cores, load average %s\n", mb, runs, cores, loadavg
    printf "%-38s %8s %8s %9s %9s %9s\n", "tool", "wall s", "cpu s", "MB/s wall", "MB/s cpu", "matches"
    printf "%-38s %8.3f %8.3f %9.1f %9.1f %9d\n", "ripgrep rg -o, 11 simple patterns", rt, rc, mb / rt, mb / rc, rn
    printf "%-38s %8.3f %8.3f %9.1f %9.1f %9d\n", "shuan-detect TextScanner, validated", st, sc, mb / st, mb / sc, sn
    printf "time ratio shuan/ripgrep: wall %.2f, cpu %.2f (target <= 2.00)\n", st / rt, sc / rc
    printf "scanner peak RSS: %s KB\n", rss
}'
