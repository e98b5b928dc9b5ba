#!/usr/bin/env bash
# The console's page rendering: pages/s of the heaviest page (the audit log with 1,000 rows)
# against its named peer in the same run — the API's JSON answer for the same 1,000 records
# (same session lookup, policy decision, durable audit record and search; only the
# rendering differs) — printed as a ratio; then the inventory page's server time (issue 15:
# p99 under 100 ms with 10,000 columns) beside the API's JSON inventory. The whole router
# in-process, one request at a time, REQUESTS requests each after 10 unmeasured.
#
#   bench/console-render.sh [REQUESTS] [PROFILE]   (default 200, release)
#
# PROFILE=dev measures the test build (dependencies at opt-level 2, shuan at 1): slower
# than release, so an upper bound when a release build is not at hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo run --profile "${2:-release}" -q -p shuan-server --example console_bench -- "${1:-200}"
