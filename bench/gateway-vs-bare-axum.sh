#!/usr/bin/env bash
# The data-service gateway (issue 12) beside its floor and a named peer, in one run:
# calls/s and p50/p99 of a masked single-record lookup on a 1-million-row PostgreSQL
# table through `GET /api/v1/services/lookup` (agreement, policy, masking, rate count and
# one audit record per call), the same select from a bare axum handler with none of that
# (the floor), and Datasette (PyPI, pinned) serving the same rows from SQLite with the
# same index. Prints the ratios.
#
#   bench/gateway-vs-bare-axum.sh [SECONDS_PER_ROW] [CONNECTIONS]   (default 5, 16)
#   BENCH_PROFILE=dev bench/gateway-vs-bare-axum.sh …   (the dev profile, opt-level 1)
#
# Needs SHUAN_TEST_POSTGRES (scripts/ensure-services.sh sets it). The table is made once
# with generate_series in database shuan_gw_bench (kept between runs; drop it to redo).
# BENCH_ROWS changes the row count; NO_DATASETTE=1 skips the peer.
set -euo pipefail
cd "$(dirname "$0")/.."
# The target directory cargo uses here (.cargo/config.toml's, CARGO_TARGET_DIR, or target/).
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
ROWS="${BENCH_ROWS:-1000000}"
export BENCH_ROWS="$ROWS"
DATASETTE_VERSION=0.65.1
PG="${SHUAN_TEST_POSTGRES:?set SHUAN_TEST_POSTGRES (source scripts/ensure-services.sh)}"
DB=shuan_gw_bench
BASE="${PG%/*}"
BENCH_URL="$BASE/$DB"

psql "$PG" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql "$PG" -qc "CREATE DATABASE $DB"
have="$(psql "$BENCH_URL" -qtAc "SELECT count(*) FROM people" 2>/dev/null || echo 0)"
if [ "$have" != "$ROWS" ]; then
  echo "making $ROWS rows in $DB.people (generate_series) …" >&2
  start=$(date +%s.%N)
  # Valid resident ids (GB 11643 check digit), phones, names, amounts; one row per g.
  psql "$BENCH_URL" -q <<SQL
DROP TABLE IF EXISTS people;
CREATE TABLE people AS
SELECT g AS id,
       (ARRAY['张','王','李','赵','刘','陈','杨','黄'])[1 + g % 8]
         || (ARRAY['伟','芳','娜','敏','静','强','磊','洋'])[1 + (g / 8) % 8]
         || (ARRAY['伟','芳','娜','敏','静','强','磊','洋'])[1 + (g / 3) % 8] AS 姓名,
       body || substr('10X98765432', 1 + (
           7 * substr(body, 1, 1)::int + 9 * substr(body, 2, 1)::int + 10 * substr(body, 3, 1)::int
         + 5 * substr(body, 4, 1)::int + 8 * substr(body, 5, 1)::int + 4 * substr(body, 6, 1)::int
         + 2 * substr(body, 7, 1)::int + 1 * substr(body, 8, 1)::int + 6 * substr(body, 9, 1)::int
         + 3 * substr(body, 10, 1)::int + 7 * substr(body, 11, 1)::int + 9 * substr(body, 12, 1)::int
         + 10 * substr(body, 13, 1)::int + 5 * substr(body, 14, 1)::int + 8 * substr(body, 15, 1)::int
         + 4 * substr(body, 16, 1)::int + 2 * substr(body, 17, 1)::int) % 11, 1) AS 身份证号,
       '139' || lpad(((g::bigint * 7919) % 100000000)::text, 8, '0') AS 手机号,
       (ARRAY['浉河区','平桥区','罗山县'])[1 + g % 3] AS 区县,
       1000 + (g * 37) % 5000 AS 补贴金额
FROM (SELECT g,
             '410102' || (1950 + g % 50)::text || lpad(((g / 50) % 12 + 1)::text, 2, '0')
               || lpad(((g / 600) % 28 + 1)::text, 2, '0') || lpad(((g / 16800) % 1000)::text, 3, '0') AS body
      FROM generate_series(1, $ROWS) g) s;
CREATE INDEX people_id_card ON people (身份证号);
ANALYZE people;
SQL
  echo "made in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
fi

WORK="$(mktemp -d)"
DS_PID=""
cleanup() { [ -n "$DS_PID" ] && kill "$DS_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

DATASETTE_URL=""
if [ -z "${NO_DATASETTE:-}" ]; then
  python3 -c "import datasette, sys; sys.exit(datasette.__version__ != '$DATASETTE_VERSION')" 2>/dev/null \
    || python3 -m pip install -q "datasette==$DATASETTE_VERSION" >&2
  echo "copying the rows into SQLite for Datasette …" >&2
  psql "$BENCH_URL" -qc "\\copy people TO '$WORK/people.csv' WITH (FORMAT csv)"
  python3 - "$WORK" <<'PY'
import csv, sqlite3, sys
work = sys.argv[1]
db = sqlite3.connect(f"{work}/bench.db")
db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, 姓名 TEXT, 身份证号 TEXT, 手机号 TEXT, 区县 TEXT, 补贴金额 INTEGER)")
with open(f"{work}/people.csv", newline="") as f:
    db.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)", csv.reader(f))
db.execute("CREATE INDEX people_id_card ON people (身份证号)")
db.commit()
PY
  PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  python3 -m datasette serve "$WORK/bench.db" --host 127.0.0.1 --port "$PORT" \
    --setting sql_time_limit_ms 5000 > "$WORK/datasette.log" 2>&1 &
  DS_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/-/versions.json" >/dev/null 2>&1 && break
    sleep 0.2
  done
  DATASETTE_URL="http://127.0.0.1:$PORT"
fi

# BENCH_PROFILE=dev builds with the workspace's dev profile (opt-level 1, quicker to
# build on a busy machine); the default is release.
PROFILE="${BENCH_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release -q --workspace --example gateway_bench
else
  cargo build -q --workspace --example gateway_bench
  PROFILE=debug
fi
DATASETTE_URL="$DATASETTE_URL" "$TARGET_DIR/$PROFILE/examples/gateway_bench" \
  "$BENCH_URL" "${1:-5}" "${2:-16}"
