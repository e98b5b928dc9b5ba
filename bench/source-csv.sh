#!/usr/bin/env bash
# CSV reading throughput of shuan-source (open + sample_table: every row decoded and
# counted, 1000 values per column collected) beside two peers on the same file in the
# same run: `wc -l` (line counting only, the floor) and Python's csv module (a full CSV
# parse, the usual scripting tool). UTF-8 and GBK files of SIZE_MB (default 600) MB.
# Peak RSS via /usr/bin/time shows memory does not grow with file size.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-600}"
DIR="${BENCH_DIR:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p shuan-source --example csv_throughput
BIN="$CARGO_TARGET_DIR/release/examples/csv_throughput"

rate() { python3 -c "import sys; print(f'{$1/1e6/$2:.1f}')"; }
timed() { # prints seconds and peak RSS (KiB) of a command
  local out
  out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -n1 )
  echo "$out"
}

for enc in utf8 gbk; do
  FILE="$DIR/people_$enc.csv"
  [ -f "$FILE" ] || "$BIN" generate "$FILE" "$SIZE_MB" $([ "$enc" = gbk ] && echo gbk)
  BYTES=$(stat -c %s "$FILE")
  cat "$FILE" >/dev/null   # warm the page cache so all three read from memory
  PYENC=$([ "$enc" = gbk ] && echo gb18030 || echo utf-8)
  echo "== $enc: $FILE ($(rate "$BYTES" 1) MB)"
  read -r s rss < <(timed "$BIN" read "$FILE")
  echo "shuan-source sample_table : ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
  read -r s rss < <(timed wc -l "$FILE")
  echo "wc -l                     : ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
  read -r s rss < <(timed python3 -c "import csv,sys
n=0
with open(sys.argv[1], newline='', encoding='$PYENC') as f:
    for row in csv.reader(f): n+=1
print(n)" "$FILE")
  echo "python3 csv.reader        : ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$DIR"
