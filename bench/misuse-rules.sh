#!/usr/bin/env bash
# Misuse detection bench (issue 12 item 5, target ≥ 100,000 audit events/s): the
# shuan-watch engine (all seven rules) over a generated audit stream of gateway-shaped
# records — ordinary callers plus injected enumeration, volume spikes, denials, vendor
# extracts, out-of-agreement calls and new addresses — against SQLite (bundled, in memory)
# computing four of the same windowed counts over an indexed table of the same events in
# the same run (load + index + queries). Prints events/s of both and the ratio.
# Usage: bench/misuse-rules.sh [records] [callers]
# BENCH_PROFILE=dev uses the (opt-level 1) dev build instead of release.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${1:-1500000}"
CALLERS="${2:-2000}"
PROFILE="${BENCH_PROFILE:-release}"
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  # Honour a target dir set in .cargo/config.toml (worktrees have their own).
  CARGO_TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
fi
if [ "$PROFILE" = dev ]; then
  cargo build -q -p shuan-watch --example misuse_bench
  BIN="$CARGO_TARGET_DIR/debug/examples/misuse_bench"
else
  cargo build -q --release -p shuan-watch --example misuse_bench
  BIN="$CARGO_TARGET_DIR/release/examples/misuse_bench"
fi
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $PROFILE profile, machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" "$RECORDS" "$CALLERS"
