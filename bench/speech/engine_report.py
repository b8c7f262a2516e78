#!/usr/bin/env python3
"""Figures of bench/speech/engine_bench.sh (python3 standard library only).

Usage: engine_report.py OUT_DIR DATA_DIR WER_PY

Reads OUT_DIR/{ps_bench,ours,ours_nofillers}.tsv (id audio_s wall_s cpu_s rtf n hyp, one line
per file), their .rss files (id peak_kB) and OUT_DIR/seg.tsv (our words: id word start end
confidence filler). Prints WER (wer.py's normalisation and alignment), RTF = CPU s / audio s
and its ratio to the engine's, peak RSS, and filler recall / false fillers per minute.

Filler recall: the fillers of fillers/ (uh, um, hm, er, ah in the verbatim references) located
by fillers/alignments_pocketsphinx.tsv; one of our fillers finds one when their times overlap,
each widened by 0.3 s (each reference found at most once). False fillers per minute: all our
fillers on read/ plus the trap clip fillers/mfa_long (drawn-out words, no filler).
"""
import importlib.util
import os
import sys

REF_FILLERS = {"uh", "um", "hm", "hmm", "er", "ah"}
TOL = 0.3


def tsv(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip()]


def manifest(data, folder):
    rows = tsv(os.path.join(data, folder, "manifest.tsv"))
    head = rows[0]
    return {os.path.splitext(r[0])[0]: dict(zip(head, r)) for r in rows[1:]}


def runs(out, name):
    rows = {}
    for r in tsv(os.path.join(out, name + ".tsv")):
        rows[r[0]] = dict(audio=float(r[1]), cpu=float(r[3]), hyp=r[6] if len(r) > 6 else "")
    if name != "ps_bench":
        return rows
    for r in tsv(os.path.join(out, name + ".tsv")):  # ps_bench: hyp is column 8
        rows[r[0]]["hyp"] = r[7] if len(r) > 7 else ""
    return rows


def peak_rss(out, name, ids):
    """The largest peak RSS (kB) of the processes that decoded these files (one file each)."""
    with open(os.path.join(out, name + ".rss")) as f:
        return max(int(l.split()[1]) for l in f if l.strip() and l.split()[0] in ids)


def wer(wer_py, refs, hyps):
    spec = importlib.util.spec_from_file_location("wer", wer_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    items = [(cid, row["reference"], hyps[cid]["hyp"]) for cid, row in refs.items()
             if row["reference"] != "-" and cid in hyps]
    return mod.score(items)["total"]["wer"]


def rtf(rows, ids):
    audio = sum(rows[i]["audio"] for i in ids)
    return sum(rows[i]["cpu"] for i in ids) / audio, audio


def filler_figures(out, data):
    words = {}
    for r in tsv(os.path.join(out, "seg.tsv")):
        words.setdefault(r[0], []).append((float(r[2]), float(r[3]), r[5] == "1"))
    refs = {}
    for r in tsv(os.path.join(data, "fillers", "alignments_pocketsphinx.tsv"))[1:]:
        if r[1] in REF_FILLERS:
            refs.setdefault(os.path.splitext(r[0])[0], []).append((float(r[2]), float(r[3])))
    total = found = 0
    for cid in manifest(data, "fillers"):
        mine = refs.get(cid, [])
        used = set()
        total += len(mine)
        for s, e, filler in words.get(cid, []):
            if not filler:
                continue
            for i, (rs, re_) in enumerate(mine):
                if i not in used and s < re_ + TOL and e > rs - TOL:
                    used.add(i)
                    found += 1
                    break
    fluent = list(manifest(data, "read").items()) + [("mfa_long",
                                                      manifest(data, "fillers")["mfa_long"])]
    invented = sum(sum(f for _, _, f in words.get(cid, [])) for cid, _ in fluent)
    minutes = sum(float(row["seconds"]) for _, row in fluent) / 60
    return found, total, invented, minutes


def main():
    out, data, wer_py = sys.argv[1:4]
    engines = ["ps_bench", "ours_nofillers", "ours"]
    rows = {e: runs(out, e) for e in engines}
    print("| set | engine | WER % | CPU s | audio s | RTF | RTF / ps_bench | max peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for folder in ("read", "long"):
        refs = manifest(data, folder)
        ids = [i for i in refs if all(i in rows[e] for e in engines)]
        base, _ = rtf(rows["ps_bench"], ids)
        for e in engines:
            r, audio = rtf(rows[e], ids)
            w = wer(wer_py, {i: refs[i] for i in ids}, rows[e])
            print("| %s/ | %s | %.1f | %.1f | %.1f | %.3f | %.2f | %.0f |" % (
                folder, e, 100 * w, r * audio, audio, r, r / base, peak_rss(out, e, ids) / 1024))
    found, total, invented, minutes = filler_figures(out, data)
    print()
    print("fillers: recall %d/%d = %.1f%%; false fillers on read/ + mfa_long: %d in %.2f min = "
          "%.2f/min" % (found, total, 100.0 * found / total, invented, minutes,
                        invented / minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
