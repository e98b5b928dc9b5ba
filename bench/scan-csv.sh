#!/usr/bin/env bash
# Column-scan throughput of `shuan scan` (release build) on generated CSV files: every row
# is parsed and counted, 1000 values per column are sampled, every column is classified
# and graded. Beside it, in the same run on the same (page-cached) file: `wc -l` (line
# counting, the floor) and Python's csv module (a full CSV parse, the usual scripting
# tool). Peak RSS (/usr/bin/time) on a small and a large file shows memory is bounded.
#
#   bench/scan-csv.sh                    # 100 MB and 500 MB (default)
#   SIZES="100 1000" bench/scan-csv.sh   # other sizes, in MB
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-100 500}"
DIR="${BENCH_DIR:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p shuan-cli
SHUAN="$CARGO_TARGET_DIR/release/shuan"

rate() { python3 -c "import sys; print(f'{$1/1e6/$2:.1f}')"; }
timed() { # prints "seconds peak-RSS-KiB" of a command, its stdout discarded
  { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -n1
}

# 20,000 distinct synthetic rows (valid ID check digits), repeated up to the size.
generate() { # FILE MB
  python3 - "$1" "$2" <<'PY'
import sys, random
path, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def rid():
    b = "411502%04d%02d%02d%03d" % (rnd.randint(1940, 2010), rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 999))
    return b + "10X98765432"[sum(int(c) * w for c, w in zip(b, W)) % 11]
sur, giv = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"
rows = []
for i in range(20000):
    rows.append(",".join([
        str(i), rnd.choice(sur) + rnd.choice(giv) + rnd.choice(giv), rid(),
        "13%d%08d" % (rnd.randint(0, 9), rnd.randint(0, 10**8 - 1)),
        "河南省信阳市浉河区民权路%d号%d室" % (rnd.randint(1, 300), rnd.randint(101, 2404)),
        "%.2f" % (rnd.random() * 5000), "2024-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28)),
        rnd.choice(["正常", "暂停", "注销"])]))
block = ("\n".join(rows) + "\n").encode()
with open(path, "wb") as f:
    f.write("序号,姓名,身份证号,手机号,住址,缴费金额,缴费日期,状态\n".encode())
    for _ in range(max(1, mb * 1_000_000 // len(block))):
        f.write(block)
PY
}

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mb in $SIZES; do
  FILE="$DIR/people_${mb}mb.csv"
  [ -f "$FILE" ] || generate "$FILE" "$mb"
  BYTES=$(stat -c %s "$FILE")
  cat "$FILE" >/dev/null
  echo "== $FILE: $(python3 -c "print(f'{$BYTES/1e6:.0f}')") MB"
  read -r s rss < <(timed "$SHUAN" --data-dir "$DIR/data" scan "$FILE" --format json --no-progress)
  echo "shuan scan        : ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
  read -r s rss < <(timed wc -l "$FILE")
  echo "wc -l             : ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
  read -r s rss < <(timed python3 -c "import csv,sys
n=0
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for row in csv.reader(f): n+=1
print(n)" "$FILE")
  echo "python3 csv.reader: ${s}s  $(rate "$BYTES" "$s") MB/s  peak RSS ${rss} KiB"
done
"$SHUAN" --data-dir "$DIR/data" scan "$DIR/people_${mb}mb.csv" --no-progress | sed -n '1,12p'
[ -n "${BENCH_DIR:-}" ] || rm -rf "$DIR"
