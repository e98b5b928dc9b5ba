#!/usr/bin/env bash
# Data-quality rules (issue 13) over a large PostgreSQL table, against the same checks
# written as one SQL query run by `psql`, in the same run on the same server:
#   shuan quality check: not_null(身份证号), identifier cn_resident_id(身份证号, GB 11643
#     checksum), pattern(手机号), range(年龄 0–150), unique(编号), freshness(更新时间);
#   psql: one SELECT with count(*) FILTER (…) for each, count(DISTINCT) for unique and
#     max() for freshness — a shape regex where shuan checks the checksum (SQL has none).
# Prints rows/s of each, the ratio shuan/psql (target >= 0.5) and shuan's peak memory.
# The table is made once per row count in the database shuan_bench_quality and kept.
# Usage: bench/quality-vs-psql.sh [rows, default 10000000] [runs, default 3]
# SHUAN_BIN=path uses that shuan instead of building the release profile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-10000000}"
RUNS="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
. scripts/ensure-services.sh >/dev/null
PG="${SHUAN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
BENCH_DB=shuan_bench_quality
BASE="${PG%/*}"
URL="$BASE/$BENCH_DB"
if [ -n "${SHUAN_BIN:-}" ]; then
  SHUAN="$SHUAN_BIN"
else
  cargo build --release -q -p shuan-cli
  SHUAN="$CARGO_TARGET_DIR/release/shuan"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shuan-quality-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

psql "$PG" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 \
  || psql "$PG" -qc "CREATE DATABASE $BENCH_DB"
T="people_$ROWS"
if ! psql "$URL" -Atqc "SELECT to_regclass('public.$T') IS NOT NULL" | grep -q t; then
  echo "making $T ($ROWS rows, once)..."
  # Every 1000th row has a bad check digit, every 5000th no id number, every 7000th an
  # age out of range, every 9000th a short mobile; ids repeat every 2,000,000th row.
  psql "$URL" -q <<SQL
CREATE TABLE $T (编号 bigint, 身份证号 text, 手机号 text, 年龄 int, 更新时间 timestamp);
INSERT INTO $T
SELECT CASE WHEN g % 2000000 = 0 THEN g - 1 ELSE g END,
       CASE WHEN g % 5000 = 0 THEN NULL
            WHEN g % 1000 = 0 THEN '110105194912310021'
            ELSE '11010519491231002X' END,
       CASE WHEN g % 9000 = 0 THEN '1391234' ELSE '139' || lpad((g % 100000000)::text, 8, '0') END,
       CASE WHEN g % 7000 = 0 THEN 200 ELSE g % 100 END,
       timestamp '2026-12-01 00:00:00' + (g % 86400) * interval '1 second'
FROM generate_series(1, $ROWS) g;
ANALYZE $T;
SQL
fi

cat > "$WORK/rules.json" <<'JSON'
[{"column": "身份证号", "check": {"kind": "not_null"}},
 {"column": "身份证号", "check": {"kind": "identifier", "data_type": "cn_resident_id"}},
 {"column": "手机号", "check": {"kind": "pattern", "regex": "1[3-9]\\d{9}"}},
 {"column": "年龄", "check": {"kind": "range", "min": 0, "max": 150}},
 {"column": "编号", "check": {"kind": "unique"}},
 {"column": "更新时间", "check": {"kind": "freshness", "max_age_hours": 24}}]
JSON
SQL="SELECT count(*),
  count(*) FILTER (WHERE 身份证号 IS NULL OR btrim(身份证号) = ''),
  count(*) FILTER (WHERE 身份证号 !~ '^\\d{17}[\\dX]\$'),
  count(*) FILTER (WHERE 手机号 !~ '^1[3-9]\\d{9}\$'),
  count(*) FILTER (WHERE 年龄 < 0 OR 年龄 > 150),
  count(编号) - count(DISTINCT 编号),
  max(更新时间)
FROM public.$T"

echo "== shuan: $SHUAN"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $(psql "$PG" -Atc 'show server_version'); $ROWS rows"
TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %M -o $WORK/rss"
for run in $(seq 1 "$RUNS"); do
  s=$(date +%s.%N)
  psql "$URL" -Atc "$SQL" > "$WORK/psql.out"
  e=$(date +%s.%N)
  psql_s=$(echo "$e - $s" | bc -l)
  s=$(date +%s.%N)
  code=0
  $TIME "$SHUAN" --data-dir "$WORK/data" quality check "$URL" --table "public.$T" \
    --rules "$WORK/rules.json" --format json --out "$WORK/shuan.json" --force 2>/dev/null || code=$?
  e=$(date +%s.%N)
  shuan_s=$(echo "$e - $s" | bc -l)
  [ "$code" = 3 ] || { echo "shuan quality check exited $code (3 expected: planted rows)"; exit 1; }
  rss=""
  [ -f "$WORK/rss" ] && rss=", peak RSS $(( $(tail -n 1 "$WORK/rss") / 1024 )) MiB"
  printf 'run %s: psql %.2f s (%.0f rows/s), shuan %.2f s (%.0f rows/s): ratio %.2f%s\n' \
    "$run" "$psql_s" "$(echo "$ROWS / $psql_s" | bc -l)" "$shuan_s" "$(echo "$ROWS / $shuan_s" | bc -l)" \
    "$(echo "$psql_s / $shuan_s" | bc -l)" "$rss"
done
echo "psql counts (rows, null, shape, mobile, range, dup, latest): $(cat "$WORK/psql.out")"
python3 - "$WORK/shuan.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("shuan counts (rows; per rule):", r["rows_checked"], [x["violations"] for x in r["results"]],
      "latest", r["results"][-1].get("latest"))
PY
