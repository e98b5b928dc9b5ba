#!/usr/bin/env bash
# Accuracy and speed of JioNLP (the Chinese NLP toolkit; PyPI `jionlp`) against
# shuan-detect, on the same text in the same run (bench/jionlp_compare.py does the work):
# person names on the hand-labelled sets, identifiers on the generated labelled corpus,
# MB/s on a slice of the benchmark corpus.
#
# Usage: bench/detect-vs-jionlp.sh [MB]      (default 2 MB for the speed rows: JioNLP runs
#                                             at a few MB/s)
# JioNLP is installed here, into a virtual environment under ${SHUAN_BENCH_CACHE:-~/.cache/shuan-bench}
# (pinned version; nothing is installed system-wide). Needs python3 with venv and network
# access to PyPI the first time.
set -euo pipefail

MB="${1:-2}"
JIONLP_VERSION=1.5.31
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CACHE="${SHUAN_BENCH_CACHE:-$HOME/.cache/shuan-bench}"
VENV="$CACHE/jionlp-$JIONLP_VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import jionlp' 2>/dev/null; then
    echo "installing jionlp==$JIONLP_VERSION into $VENV ..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "jionlp==$JIONLP_VERSION" >&2
fi

echo "building the scanner and the generators (release)..." >&2
(cd "$ROOT" && cargo build --release -q -p shuan-detect --example scan_file --example gen_corpus --example gen_labelled)
"$TARGET/release/examples/gen_corpus" "$WORK/corpus.txt" "$MB" 7 2>/dev/null
"$TARGET/release/examples/gen_labelled" "$WORK/labelled.tsv" 100
DATA="$ROOT/crates/shuan-detect/tests/data"

echo "JioNLP $JIONLP_VERSION, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
"$VENV/bin/python" "$ROOT/bench/jionlp_compare.py" \
    "$TARGET/release/examples/scan_file" "$WORK/labelled.tsv" \
    "$DATA/names_addresses.tsv" "$DATA/names_addresses_holdout.tsv" \
    "$DATA/names_addresses_blind.tsv" "$DATA/names_addresses_blind2.tsv" \
    "$DATA/names_addresses_blind3.tsv" "$DATA/names_addresses_blind4.tsv" \
    --speed "$WORK/corpus.txt" 2> >(grep -v '^#' >&2)
