#!/usr/bin/env python3
"""Accuracy and speed of JioNLP against shuan-detect on the same text, in one run.

Called by bench/detect-vs-jionlp.sh (which installs JioNLP into a virtual environment and
builds the Rust examples); not meant to be run by hand. Arguments:

    jionlp_compare.py SCAN_FILE GEN_LABELLED LABELLED_TSV... --speed CORPUS_TXT

Accuracy, exact spans, per class:
  - person names on the hand-labelled sets (crates/shuan-detect/tests/data/*.tsv):
    JioNLP's name recognition is its segmenter jiojio with part-of-speech tags, a token
    tagged `nr` being a name; shuan is `TextScanner` (REPORT_CONFIDENCE and up);
  - identifiers on the generated labelled corpus (examples/gen_labelled, the corpus of
    tests/eval.rs): JioNLP's extract_phone_number, extract_id_card, extract_email,
    extract_ip_address, extract_motor_vehicle_licence_plate against shuan's types
    (mobile and landline together as "phone", IPv4 and IPv6 together as "ip").
Speed: every one of those JioNLP calls plus the segmenter over the same text, line by
line, against `scan_file` on that text (one thread and all cores), wall seconds.
"""

import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import jiojio
import jionlp as jio

RS = "\x1e"  # record separator: scan_file --records scans each record on its own


def parse_markup(line):
    """`category<TAB>sentence` with [[name]] / {{address}} -> (category, text, labels)."""
    category, marked = line.split("\t", 1)
    marked = marked.replace("\\n", "\n").replace("\\t", "\t")
    text, labels, open_ = [], [], None
    i = 0
    while i < len(marked):
        two = marked[i : i + 2]
        if two in ("[[", "{{"):
            open_ = ("person_name" if two == "[[" else "address", len(text))
            i += 2
        elif two in ("]]", "}}"):
            kind, start = open_
            labels.append((kind, start, len(text)))
            open_ = None
            i += 2
        else:
            text.append(marked[i])
            i += 1
    return category, "".join(text), labels


def byte_to_char_map(text):
    """Byte offset -> char offset for every char boundary of `text`."""
    m, b = {}, 0
    for c, ch in enumerate(text):
        m[b] = c
        b += len(ch.encode("utf-8"))
    m[b] = len(text)
    return m


def shuan_findings(scan_file, texts, extra=()):
    """Findings of scan_file --records on `texts`: list (per text) of (type, cs, ce)."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", delete=False, suffix=".txt") as f:
        f.write(RS.join(texts))
        path = f.name
    out = subprocess.run(
        [scan_file, path, "--records", *extra], capture_output=True, text=True, check=True
    ).stdout
    # Record starts in bytes.
    starts, b = [], 0
    for t in texts:
        starts.append(b)
        b += len(t.encode("utf-8")) + 1
    maps = [byte_to_char_map(t) for t in texts]
    found = [[] for _ in texts]
    import bisect

    for line in out.splitlines():
        kind, s, e = line.split("\t")
        s, e = int(s), int(e)
        k = bisect.bisect_right(starts, s) - 1
        base = starts[k]
        found[k].append((kind, maps[k][s - base], maps[k][e - base]))
    return found


def jio_names(text):
    spans, at = [], 0
    try:
        words = jiojio.cut(text) if text else []
    except ValueError:  # jiojio fails on some inputs; count it as no names
        words = []
    for word, pos in words:
        if pos == "nr":
            spans.append(("person_name", at, at + len(word)))
        at += len(word)
    return spans


JIO_EXTRACTORS = [
    ("phone", jio.extract_phone_number),
    ("cn_resident_id", jio.extract_id_card),
    ("email", jio.extract_email),
    ("ip", jio.extract_ip_address),
    ("cn_plate", jio.extract_motor_vehicle_licence_plate),
]

SHUAN_CLASS = {
    "cn_mobile": "phone",
    "cn_landline": "phone",
    "cn_resident_id": "cn_resident_id",
    "email": "email",
    "ipv4": "ip",
    "ipv6": "ip",
    "cn_plate": "cn_plate",
}


def jio_identifiers(text):
    spans = []
    for cls, f in JIO_EXTRACTORS:
        try:
            for d in f(text, detail=True):
                s, e = d["offset"]
                spans.append((cls, s, e))
        except Exception:  # a tool's failure on one line counts as finding nothing
            pass
    return spans


def score(gold, pred, classes):
    c = defaultdict(lambda: [0, 0, 0])  # tp fp fn
    for g, p in zip(gold, pred):
        g = {x for x in g if x[0] in classes}
        p = {x for x in p if x[0] in classes}
        for x in p:
            c[x[0]][0 if x in g else 1] += 1
        for x in g - p:
            c[x[0]][2] += 1
    return c


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def print_table(title, rows):
    print(title)
    print(f"  {'class':<16} {'tool':<8} {'tp':>6} {'fp':>6} {'fn':>6} {'P':>6} {'R':>6} {'F1':>6}")
    for cls, tool, (tp, fp, fn) in rows:
        p, r, f = prf(tp, fp, fn)
        print(f"  {cls:<16} {tool:<8} {tp:>6} {fp:>6} {fn:>6} {p:>6.3f} {r:>6.3f} {f:>6.3f}")


def main():
    args = sys.argv[1:]
    speed_at = args.index("--speed")
    scan_file, labelled_tsv = args[0], args[1]
    name_sets = args[2:speed_at]
    corpus = args[speed_at + 1]
    jiojio.init(pos=True)

    # Person names on the hand-labelled sets.
    rows = []
    for path in name_sets:
        sents = [
            parse_markup(l.rstrip("\n"))
            for l in open(path, encoding="utf-8")
            if l.strip() and not l.startswith("#")
        ]
        texts = [t for _, t, _ in sents]
        gold = [[x for x in lab if x[0] == "person_name"] for _, _, lab in sents]
        sd = shuan_findings(scan_file, texts, ["--min-confidence", "0.5"])
        jn = [jio_names(t) for t in texts]
        for tool, pred in (("shuan", sd), ("jionlp", jn)):
            tp, fp, fn = score(gold, pred, {"person_name"})["person_name"]
            rows.append((path.rsplit("/", 1)[-1], tool, (tp, fp, fn)))
        name_free = [i for i, g in enumerate(gold) if not g]
        for tool, pred in (("shuan", sd), ("jionlp", jn)):
            bad = sum(1 for i in name_free if any(x[0] == "person_name" for x in pred[i]))
            print(f"  {path.rsplit('/', 1)[-1]}: {tool}: {bad}/{len(name_free)} name-free sentences with a name")
    print_table("person_name, exact spans (hand-labelled sets)", rows)

    # Identifiers on the generated labelled corpus.
    texts, gold = [], []
    for line in open(labelled_tsv, encoding="utf-8"):
        raw, labels = line.rstrip("\n").split("\t")
        text = raw.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
        m = byte_to_char_map(text)
        g = []
        for lab in filter(None, labels.split(";")):
            kind, s, e = lab.split(":")
            if kind in SHUAN_CLASS:
                g.append((SHUAN_CLASS[kind], m[int(s)], m[int(e)]))
        texts.append(text)
        gold.append(g)
    sd = [
        [(SHUAN_CLASS[k], s, e) for k, s, e in f if k in SHUAN_CLASS]
        for f in shuan_findings(scan_file, texts, ["--min-confidence", "0.5"])
    ]
    jn = [jio_identifiers(t) for t in texts]
    classes = {"phone", "cn_resident_id", "email", "ip", "cn_plate"}
    cs, cj = score(gold, sd, classes), score(gold, jn, classes)
    rows = []
    for cls in sorted(classes):
        rows.append((cls, "shuan", cs[cls]))
        rows.append((cls, "jionlp", cj[cls]))
    print_table(f"identifiers, exact spans (generated labelled corpus, {len(texts)} lines)", rows)

    # Speed on the same text.
    text = open(corpus, encoding="utf-8").read()
    mb = len(text.encode("utf-8")) / 1e6
    lines = text.split("\n")
    t = time.perf_counter()
    for line in lines:
        for _, f in JIO_EXTRACTORS:
            f(line)
    t_extract = time.perf_counter() - t
    t = time.perf_counter()
    for line in lines:
        if line:
            jiojio.cut(line)
    t_names = time.perf_counter() - t
    timings = []
    for label, extra in (("shuan-detect, all cores", []), ("shuan-detect, one thread", ["--threads", "1"])):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(
                [scan_file, corpus, *extra],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
            d = time.perf_counter() - t
            best = d if best is None else min(best, d)
        timings.append((label, best))
    print(f"speed on {mb:.1f} MB of the benchmark corpus (wall seconds, MB/s)")
    print(f"  {'JioNLP, 5 extract_* calls':<44} {t_extract:8.2f} s {mb / t_extract:8.1f} MB/s")
    print(f"  {'JioNLP, names (jiojio POS)':<44} {t_names:8.2f} s {mb / t_names:8.1f} MB/s")
    print(f"  {'JioNLP, both':<44} {t_extract + t_names:8.2f} s {mb / (t_extract + t_names):8.1f} MB/s")
    for label, d in timings:
        print(f"  {label + ', every type with names':<44} {d:8.2f} s {mb / d:8.1f} MB/s")


if __name__ == "__main__":
    main()
