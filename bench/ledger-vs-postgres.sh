#!/usr/bin/env bash
# Audit ledger benchmark against PostgreSQL on the same machine, in the same run:
#  - durable appends/s with 1, 8, 64 and 256 concurrent appenders as OS threads (blocking
#    `append`) and 64 and 256 as tasks on a tokio runtime with one worker per core
#    (`append_async`), 1 and 100 events per call, vs the same events INSERTed into
#    PostgreSQL by as many clients (threads with `postgres`, or tasks with one
#    `tokio-postgres` connection each, up to the server's connection limit), one row per
#    event, each committed; with the ledger's CPU time per event and the load average;
#  - `shuan audit append` streaming JSON lines from stdin (group commit, durable);
#  - verify MB/s (all cores, and on one thread) beside raw single-threaded SM3 MB/s.
# Usage: bench/ledger-vs-postgres.sh [seconds-per-run] [verify-MB]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-3}"
VERIFY_MB="${2:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
. scripts/ensure-services.sh >/dev/null
PG="${SHUAN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -q -p shuan-ledger --example ledger_bench
cargo build --release -q -p shuan-cli
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shuan-ledger-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r); PostgreSQL $(psql "$PG" -Atc 'show server_version') (synchronous_commit=$(psql "$PG" -Atc 'show synchronous_commit'))"
"$CARGO_TARGET_DIR/release/examples/ledger_bench" --postgres "$PG" --seconds "$SECS" --verify-mb "$VERIFY_MB" --dir "$WORK"

echo
N=200000
LINE='{"actor":{"kind":"user","id":"zhang.san","department":"市大数据局","role":"analyst"},"action":"export","object":"pg:civil.residents","purpose":"统计分析","outcome":"allowed","client":{"address":"10.12.0.7","agent":"shuan-cli/0.1"},"request_id":"req-1","details":{"rows":100,"columns":["name","id_no","phone"]}}'
# `yes` ends by SIGPIPE when head has enough; that is not a failure.
{ yes "$LINE" || true; } | head -n "$N" > "$WORK/events.jsonl"
start=$(date +%s.%N)
last=$("$CARGO_TARGET_DIR/release/shuan" --data-dir "$WORK/data" audit append --dir "$WORK/cli-ledger" < "$WORK/events.jsonl")
end=$(date +%s.%N)
echo "shuan audit append (stdin JSON lines, durable before exit): $last events in $(echo "$end - $start" | bc -l | cut -c1-5) s = $(echo "$N / ($end - $start)" | bc) events/s"
"$CARGO_TARGET_DIR/release/shuan" --data-dir "$WORK/data" audit verify --dir "$WORK/cli-ledger"
