#!/usr/bin/env bash
# Text detection throughput: shuan-detect's TextScanner (validating every type, person
# names and addresses included) against ripgrep `rg -o` over a union of simple patterns,
# on the same generated corpus.
#
# Usage: bench/detect-vs-ripgrep.sh [MB] [RUNS]      (defaults: 100 MB, best of 3 runs)
# Both tools print one line per match/finding to a pipe counted by `wc -l` (ripgrep quits
# early when its output is /dev/null, so neither writes there). ripgrep searches one file
# with one thread; the scanner runs on every core (cut at line breaks) and, in the rows
# marked so, on one thread. Rows:
#   - ripgrep, 11 simple patterns (one per identifier family, a CJK class for plates and a
#     17-character class for VINs: ripgrep's slow path);
#   - ripgrep, the 4-pattern union of issue 16 (ID, mobile, email, IPv4);
#   - the scanner on all cores, on one thread, and on one thread without person names.
# The all-core and one-thread outputs are compared byte for byte.
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

# The union issue 16 measured: resident ID, mobile, email, IPv4.
PATTERNS4=(
    -e '[1-9][0-9]{16}[0-9Xx]'
    -e '1[3-9][0-9]{9}'
    -e '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
    -e '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}'
)

scan1() { "$TARGET/release/examples/scan_file" "$1" --threads 1 2>/dev/null; }
scan1_no_names() { "$TARGET/release/examples/scan_file" "$1" --threads 1 --no-names 2>/dev/null; }

read -r RG_T RG_C RG_N < <(best_of rg -o "${PATTERNS[@]}" "$WORK/corpus.txt")
read -r RG4_T RG4_C RG4_N < <(best_of rg -o "${PATTERNS4[@]}" "$WORK/corpus.txt")
read -r SD_T SD_C SD_N < <(best_of scan "$WORK/corpus.txt")
read -r S1_T S1_C S1_N < <(best_of scan1 "$WORK/corpus.txt")
read -r SN_T SN_C SN_N < <(best_of scan1_no_names "$WORK/corpus.txt")
scan "$WORK/corpus.txt" > "$WORK/all-cores.tsv"
scan1 "$WORK/corpus.txt" > "$WORK/one-thread.tsv"
if cmp -s "$WORK/all-cores.tsv" "$WORK/one-thread.tsv"; then SAME=yes; else SAME=NO; fi
# Peak memory of the scanner (it streams in 4 MiB blocks, so this does not grow with size).
SD_RSS="n/a"
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$WORK/rss" "$TARGET/release/examples/scan_file" "$WORK/corpus.txt" > /dev/null 2>&1
    SD_RSS=$(tail -1 "$WORK/rss")
fi

awk -v bytes="$BYTES" -v rt="$RG_T" -v rc="$RG_C" -v rn="$RG_N" -v st="$SD_T" -v sc="$SD_C" -v sn="$SD_N" \
    -v r4t="$RG4_T" -v r4c="$RG4_C" -v r4n="$RG4_N" -v s1t="$S1_T" -v s1c="$S1_C" -v s1n="$S1_N" \
    -v snt="$SN_T" -v snc="$SN_C" -v snn="$SN_N" -v same="$SAME" \
    -v rss="$SD_RSS" -v runs="$RUNS" -v cores="$(nproc)" -v loadavg="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    mb = bytes / 1e6
    printf "corpus: %.1f MB (generated, seed 7); best of %d runs; %d cores, load average %s\n", mb, runs, cores, loadavg
    printf "%-46s %8s %8s %9s %9s %9s\n", "tool", "wall s", "cpu s", "MB/s wall", "MB/s cpu", "matches"
    printf "%-46s %8.3f %8.3f %9.1f %9.1f %9d\n", "ripgrep rg -o, 11 simple patterns", rt, rc, mb / rt, mb / rc, rn
    printf "%-46s %8.3f %8.3f %9.1f %9.1f %9d\n", "ripgrep rg -o, 4-pattern union (ID/mobile/email/IPv4)", r4t, r4c, mb / r4t, mb / r4c, r4n
    printf "%-46s %8.3f %8.3f %9.1f %9.1f %9d\n", "shuan-detect, every type validated, all cores", st, sc, mb / st, mb / sc, sn
    printf "%-46s %8.3f %8.3f %9.1f %9.1f %9d\n", "shuan-detect, every type, one thread", s1t, s1c, mb / s1t, mb / s1c, s1n
    printf "%-46s %8.3f %8.3f %9.1f %9.1f %9d\n", "shuan-detect, no person names, one thread", snt, snc, mb / snt, mb / snc, snn
    printf "time ratio shuan (all cores) / ripgrep 11 patterns: wall %.2f, cpu %.2f (target <= 2.00)\n", st / rt, sc / rc
    printf "time ratio shuan (all cores) / ripgrep 4-pattern union: wall %.2f, cpu %.2f (target <= 1.00 wall)\n", st / r4t, sc / r4c
    printf "time ratio shuan (one thread) / ripgrep 4-pattern union: wall %.2f, cpu %.2f\n", s1t / r4t, s1c / r4c
    printf "person names cost (one thread, cpu): %.0f%% of the scan time\n", 100 * (s1c - snc) / s1c
    printf "all-core output identical to one-thread output: %s\n", same
    printf "scanner peak RSS: %s KB\n", rss
}'
