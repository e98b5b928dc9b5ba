#!/usr/bin/env bash
# Masking throughput of `shuan mask` against a plain parse-and-rewrite of the same CSV by
# xsv (`xsv select 1-` parses every record and writes it back), in the same run.
#
#   bench/mask-vs-xsv.sh                    # 1 GiB CSV (default)
#   SHUAN_BENCH_MB=200 bench/mask-vs-xsv.sh # quicker run
#
# Five columns are masked (scenario in bench/mask-bench-rules.toml, written below):
# ID number → keyed pseudonym (HMAC-SM3), mobile → partial, name → partial,
# address → district generalization, birth date → year. Peak RSS and CPU seconds via
# /usr/bin/time -v. Target: shuan ≥ 50% of xsv's MB/s.
#
# xsv is single-threaded; shuan reads in one thread and masks/serialises in
# `--threads` workers (default: all cores, at most 8), so on a shared or loaded machine
# compare the CPU seconds too. SHUAN_BENCH_KEY=FILE masks with a fixed key (to compare
# outputs byte for byte between builds); the default is a fresh random key.
set -euo pipefail
cd "$(dirname "$0")/.."

MB="${SHUAN_BENCH_MB:-1024}"
WORK="${SHUAN_BENCH_DIR:-$(mktemp -d /tmp/shuan-mask-bench.XXXXXX)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p "$WORK"

if ! command -v xsv >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/xsv" ]; then
  echo "installing xsv from crates.io (cargo install xsv --locked)…" >&2
  cargo install xsv --locked >&2
fi
XSV="$(command -v xsv || echo "$HOME/.cargo/bin/xsv")"
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time for peak RSS…" >&2
  (sudo -n apt-get install -y time || apt-get install -y time) >&2
fi


CSV="$WORK/people-${MB}MB.csv"
if [ ! -s "$CSV" ]; then
  echo "generating ${MB} MB CSV at $CSV…" >&2
  python3 - "$CSV" "$MB" <<'PY'
import sys, random
path, mb = sys.argv[1], int(sys.argv[2])
target = mb * 1024 * 1024
W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
sur = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
giv = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰"
dist = ["蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"]
rnd = random.Random(42)
with open(path, "w", encoding="utf-8") as f:
    f.write("id,id_no,name,phone,address,birth_date,amount,status,note\n")
    size, i = 0, 0
    lines = []
    while size < target:
        y, m, d = 1940 + rnd.randrange(70), 1 + rnd.randrange(12), 1 + rnd.randrange(28)
        body = "440703%04d%02d%02d%03d" % (y, m, d, rnd.randrange(1000))
        s = sum(int(c) * w for c, w in zip(body, W))
        idn = body + "10X98765432"[s % 11]
        name = sur[rnd.randrange(20)] + giv[rnd.randrange(20)] + (giv[rnd.randrange(20)] if rnd.random() < .6 else "")
        phone = "1%d%09d" % (rnd.choice([3, 5, 8]), rnd.randrange(10**9))
        addr = "广东省江门市%s建设路%d号%d栋" % (dist[rnd.randrange(7)], rnd.randrange(1, 999), rnd.randrange(1, 30))
        line = "%d,%s,%s,%s,%s,%04d-%02d-%02d,%d.%02d,%s,%s\n" % (
            i, idn, name, phone, addr, y, m, d, rnd.randrange(100000), rnd.randrange(100),
            rnd.choice(["正常", "注销", "迁出"]), rnd.choice(["", "已核实", "待补充材料"]))
        lines.append(line)
        size += len(line.encode())
        i += 1
        if len(lines) >= 10000:
            f.write("".join(lines)); lines = []
    f.write("".join(lines))
PY
fi
BYTES=$(stat -c %s "$CSV")

cargo build --release -p shuan-cli >&2
SHUAN="$CARGO_TARGET_DIR/release/shuan"

cat > "$WORK/rules.toml" <<'TOML'
[scenarios.bench]
label = "基准"
[[scenarios.bench.rules]]
fields = ["id_no"]
op = "pseudonym"
prefix = "P"
[[scenarios.bench.rules]]
fields = ["phone"]
op = "partial"
keep_first = 3
keep_last = 4
[[scenarios.bench.rules]]
fields = ["name"]
op = "partial"
keep_first = 1
[[scenarios.bench.rules]]
fields = ["address"]
op = "generalize_address"
level = "district"
[[scenarios.bench.rules]]
fields = ["birth_date"]
op = "generalize_date"
to = "year"
[[scenarios.bench.rules]]
columns = [".*"]
op = "keep"
TOML
if [ -n "${SHUAN_BENCH_KEY:-}" ]; then
  cp "$SHUAN_BENCH_KEY" "$WORK/mask.key"
else
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/mask.key"
fi
chmod 600 "$WORK/mask.key"

run() { # label, command...
  local label="$1"; shift
  rm -f "$WORK/out.csv"
  sync
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/$label.time" "$@"
  t1=$(date +%s.%N)
  local secs rss cpu
  secs=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$WORK/$label.time")
  cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$WORK/$label.time")
  local mbs
  mbs=$(python3 -c "print(f'{$BYTES / 1048576 / ($t1 - $t0):.1f}')")
  echo "$label $secs $mbs $rss $cpu"
}

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)

# Warm the page cache once so both runs read from memory.
cat "$CSV" > /dev/null

X=$(run xsv "$XSV" select 1- "$CSV" -o "$WORK/out.csv")
S=$(run shuan "$SHUAN" --data-dir "$WORK/data" mask "$CSV" --scenario bench --rules "$WORK/rules.toml" \
      --key-file "$WORK/mask.key" --out "$WORK/out.csv" --force --no-progress)
head -3 "$WORK/out.csv" >&2

read -r _ xs xm xr xc <<<"$X"
read -r _ ss sm sr sc <<<"$S"
echo
echo "input: $CSV ($(python3 -c "print(f'{$BYTES/1048576:.0f}')") MB), 5 masked columns, $(nproc) cores, load average before/after: $LOAD_BEFORE/$(cut -d' ' -f1 /proc/loadavg)"
echo "xsv is single-threaded; shuan mask uses one reader thread plus one masking worker per core"
printf "%-30s %9s %9s %9s %12s\n" "tool" "seconds" "MB/s" "CPU s" "peak RSS KB"
printf "%-30s %9s %9s %9s %12s\n" "xsv select 1- (1 thread)" "$xs" "$xm" "$xc" "$xr"
printf "%-30s %9s %9s %9s %12s\n" "shuan mask (5 cols, $(nproc) cores)" "$ss" "$sm" "$sc" "$sr"
python3 -c "r=$sm/$xm; print(f'ratio shuan/xsv = {r:.2f} (target >= 0.50): ' + ('MET' if r >= 0.5 else 'NOT MET'))"
[ -z "${SHUAN_BENCH_DIR:-}" ] && rm -rf "$WORK"
exit 0
