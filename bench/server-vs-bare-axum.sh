#!/usr/bin/env bash
# The platform server beside a bare axum handler, in one run (issue 11): authenticated
# requests/s and p50/p99 of a cheap read (GET /api/v1/users/me) and of an audited write
# (POST /api/v1/departments), with the Cedar decision and the audit append measured
# alone. The bare handler does the same store lookups and insert with no policy and no
# audit. Peer: axum 0.8 with the same store, same process, same client.
#
#   bench/server-vs-bare-axum.sh [SECONDS_PER_ROW] [CONNECTIONS]   (default 5, 32)
#
# The load generator runs in the same process as both servers on this 2-core machine,
# so absolute numbers are lower than a separate client would see; the ratios compare
# like with like.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo run --release -q -p shuan-server --example server_bench -- "${1:-5}" "${2:-32}"
