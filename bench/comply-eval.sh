#!/usr/bin/env bash
# Compliance evaluation bench (issue 14): every control of each regulation's profile for
# one department with 1 M ledger records and 10,000 inventory columns (target < 2 s),
# against a peer in the same run: the same facts computed by a source that streams the
# rows instead of asking for aggregates. Both sources live in the bench over one SQLite
# file (the server's evidence source is not built yet); the bench checks they agree.
# Usage: bench/comply-eval.sh [ledger-rows] [columns]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
COLS="${2:-10000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p shuan-comply --example eval_bench
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for p in jm gz xy jc xa; do
  "$CARGO_TARGET_DIR/release/examples/eval_bench" "$p" "$ROWS" "$COLS"
done
