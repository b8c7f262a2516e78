#!/usr/bin/env python3
"""How well the memo splitter (speech/prompts) cuts, against hand-made cuts.

Usage: bench/prompt_split.py [BUILD_DIR]   (default build/; needs espeak-ng, g++, python3;
flite too if installed)

Eight memos, each a list of hand-cut prompts. Each prompt is synthesised alone with espeak-ng
(en-us, 150 wpm) and, when installed, flite (voice rms), its own silence trimmed, and the pieces joined with a known gap: a pause
(0.5-0.9 s, as between spoken sentences) or, where the next prompt opens with a cue word
("then", "after that", ...), a short one (0.06 s: the cue word has to make the cut). So every
hand cut has an exact time. The memo goes through the real recogniser
(`rostrum transcribe FILE --json`) and the splitter (bench/prompt_split_tool.cpp, built here
against the build's libraries), at pause thresholds from 0.30 to 1.00 s.

Figures:
- boundary precision / recall / F1: a cut of the splitter (the gap between two of its prompts)
  finds a hand cut when the hand cut's time lies in that gap widened by 0.25 s either side;
  each hand cut is found at most once.
- exact prompts: hand prompts (cue words off, lower case) that the splitter produced word for
  word. On recogniser output this is bounded by the recogniser's word errors (espeak-ng's voice
  is far from pocketsphinx's training speech), so the same memos are also split from their
  reference words laid out with the same gaps ("reference words"): that row measures the text
  rules alone.
- human speech: read/harvard_sentences.wav (six sentences read by a man), its five sentence
  boundaries placed by hand in the recogniser's word times (the gap between the last word of one
  sentence and the first of the next).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data", "speech")
TOL = 0.25
PAUSE, CUE = "pause", "cue"
CUE_GAP = 0.06

# (prompt as spoken, how it joins the previous one, gap in seconds); the hand cut is before
# every prompt but the first.
MEMOS = [
    [("First call the supplier about the invoice.", None, 0),
     ("Then book a room for Thursday.", PAUSE, 0.7),
     ("Also remind Sam to send the slides.", PAUSE, 0.6)],
    [("Order more paper for the printer", None, 0),
     ("and then email the team about the meeting.", CUE, CUE_GAP),
     ("After that update the budget spreadsheet.", PAUSE, 0.8)],
    [("Pick up the dry cleaning.", None, 0),
     ("Buy milk and bread.", PAUSE, 0.65),
     ("Call the dentist to move the appointment.", PAUSE, 0.9)],
    [("First review the pull request", None, 0),
     ("then merge it into the main branch", CUE, CUE_GAP),
     ("and finally tag the release.", CUE, CUE_GAP)],
    [("We need to fix the login page before Friday.", None, 0),
     ("Next write the release notes.", PAUSE, 0.75),
     ("Um also check the backup logs.", PAUSE, 0.6)],
    [("Send the contract to the lawyer.", None, 0),
     ("Second ask finance for the new numbers.", PAUSE, 0.55),
     ("Third prepare the slides for Monday.", PAUSE, 0.7),
     ("Lastly book the flight to Berlin.", PAUSE, 0.85)],
    [("Water the plants in the office", None, 0),
     ("also feed the fish", CUE, CUE_GAP),
     ("then lock the back door.", CUE, CUE_GAP)],
    [("Ask Maria about the project timeline.", None, 0),
     ("Then schedule a call with the client for next week.", PAUSE, 0.5),
     ("After that send the summary to everyone.", PAUSE, 0.7)],
]
LEADING_CUES = {"first", "then", "next", "also", "second", "third", "finally", "lastly", "and",
                "after", "that", "um"}

# read/harvard_sentences.wav: the first word of sentences 2-6 in the recogniser's output (its
# spelling), with the end of the sentence before (the hand cut lies between them).
HARVARD_CUTS = [("lingers", "it"), ("odor", "a"), ("zest", "case"), ("me", "tacos"),
                ("favorite", "is")]
HARVARD_REF = ["the stale smell of old beer lingers", "it takes heat to bring out the odor",
               "a cold dip restores health and zest", "a salt pickle tastes fine with ham",
               "tacos al pastor are my favorite", "a zestful food is the hot cross bun"]

THRESHOLDS = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.70, 0.80, 1.00]


def norm_words(text):
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def hand_prompt(text):
    """The prompt a perfect splitter gives: the spoken text without its leading cue words."""
    w = norm_words(text)
    while w and w[0] in LEADING_CUES and not (w[0] == "that" and (len(w) < 2)):
        if w[0] == "after" and (len(w) < 2 or w[1] != "that"):
            break
        w = w[1:]
    return " ".join(w)


def read_wav(path):
    with wave.open(path, "rb") as f:
        assert f.getnchannels() == 1 and f.getsampwidth() == 2
        return f.getframerate(), f.readframes(f.getnframes())


def trim(pcm, rate, level=200):
    """The clip without its leading and trailing silence (16-bit samples below `level`)."""
    n = len(pcm) // 2
    samples = memoryview(pcm).cast("h")
    b, e = 0, n
    while b < e and abs(samples[b]) < level:
        b += 1
    while e > b and abs(samples[e - 1]) < level:
        e -= 1
    return pcm[2 * b:2 * e]


VOICES = {
    # espeak-ng: formant synthesis, far from the recogniser's training speech.
    "espeak-ng": lambda text, out: ["espeak-ng", "-v", "en-us", "-s", "150", "-w", out, text],
    # flite's rms voice: a diphone voice built from a CMU ARCTIC speaker (optional).
    "flite": lambda text, out: ["flite", "-voice", "rms", "-t", text, "-o", out],
}


def synthesise(memo, workdir, idx, voice):
    """The memo's WAV and its hand cut times (s)."""
    out, cuts, rate, t = b"", [], None, 0.3
    pad = None
    for k, (text, join, gap) in enumerate(memo):
        clip = os.path.join(workdir, f"{voice}{idx}_{k}.wav")
        subprocess.run(VOICES[voice](text, clip), check=True, capture_output=True)
        r, pcm = read_wav(clip)
        rate = rate or r
        pad = pad or b"\0\0" * int(0.3 * rate)
        if k == 0:
            out += pad
        else:
            cuts.append(t + gap / 2)
            out += b"\0\0" * int(gap * rate)
            t += gap
        piece = trim(pcm, rate)
        out += piece
        t += len(piece) / 2 / rate
    out += pad
    path = os.path.join(workdir, f"{voice}_memo{idx}.wav")
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(out)
    return path, cuts


def reference_words(memo):
    """The memo's own words with the same gaps: 0.3 s a word (the text rules alone)."""
    words, cuts, t = [], [], 0.5
    for k, (text, join, gap) in enumerate(memo):
        if k:
            cuts.append(t + gap / 2)
            t += gap
        for w in norm_words(text):
            words.append((w, t, t + 0.3, 1 if w in ("um", "uh") else 0))
            t += 0.3
    return words, cuts


def transcribe(rostrum, wav):
    out = subprocess.run([rostrum, "transcribe", wav, "--json"], check=True,
                         capture_output=True, text=True).stdout
    t = json.loads(out)["transcript"]
    return [(w["word"], w["start_s"], w["end_s"], 1 if w["filler"] else 0) for w in t["words"]]


def split(tool, memos, pause):
    """{name: [(start, end, text)]} from the splitter over {name: words}."""
    lines = []
    for name, words in memos.items():
        lines.append(f"#memo {name}")
        lines += [f"{w}\t{s:.3f}\t{e:.3f}\t{f}" for w, s, e, f in words]
    out = subprocess.run([tool, str(pause)], input="\n".join(lines) + "\n", check=True,
                         capture_output=True, text=True).stdout
    res = {name: [] for name in memos}
    for line in out.splitlines():
        name, s, e, text = line.split("\t", 3)
        res[name].append((float(s), float(e), text))
    return res


def score(prompts, cuts, hand):
    """(true cuts found, cuts made, hand cuts, exact prompts, hand prompts) for one memo."""
    gaps = [(prompts[i][1] - TOL, prompts[i + 1][0] + TOL) for i in range(len(prompts) - 1)]
    found, used = 0, set()
    for lo, hi in gaps:
        for j, c in enumerate(cuts):
            if j not in used and lo <= c <= hi:
                used.add(j)
                found += 1
                break
    got = [" ".join(norm_words(p[2])) for p in prompts]
    exact = sum(1 for h in hand if h in got)
    return found, len(gaps), len(cuts), exact, len(hand)


def totals(results, cuts, hands):
    f = m = c = x = h = 0
    for name, prompts in results.items():
        a, b, d, e, g = score(prompts, cuts[name], hands[name])
        f, m, c, x, h = f + a, m + b, c + d, x + e, h + g
    p = f / m if m else 1.0
    r = f / c if c else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1, x, h


def build_tool(build):
    tool = os.path.join(build, "prompt_split_tool")
    subprocess.run(["g++", "-std=c++20", "-O2", "-Wall", "-Wextra", "-Werror", "-I", ROOT, "-o",
                    tool, os.path.join(HERE, "prompt_split_tool.cpp"),
                    os.path.join(build, "librostrum_speech.a"),
                    os.path.join(build, "librostrum_core.a")], check=True)
    return tool


def harvard(rostrum):
    words = transcribe(rostrum, os.path.join(DATA, "read", "harvard_sentences.wav"))
    cuts = []
    for last, first in HARVARD_CUTS:
        for i in range(len(words) - 1):
            # the first occurrence of the pair after the cuts so far, fillers skipped
            j = i + 1
            while j < len(words) and words[j][3]:
                j += 1
            if words[i][0] == last and j < len(words) and words[j][0] == first and \
                    (not cuts or words[i][2] > cuts[-1]):
                cuts.append((words[i][2] + words[j][1]) / 2)
                break
    assert len(cuts) == len(HARVARD_CUTS), cuts
    return words, cuts


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    rostrum = os.path.join(build, "rostrum")
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    voices = [v for v in VOICES if shutil.which(v)]
    tool = build_tool(build)
    work = tempfile.mkdtemp(prefix="prompt_split.")
    try:
        ref, ref_cuts, hands = {}, {}, {}
        asr = {v: {} for v in voices}
        cuts = {v: {} for v in voices}  # each voice's own timeline
        heard = {v: {} for v in voices}
        for i, memo in enumerate(MEMOS):
            name = f"memo{i + 1}"
            for v in voices:
                wav, cuts[v][name] = synthesise(memo, work, i + 1, v)
                asr[v][name] = transcribe(rostrum, wav)
                heard[v][name] = " ".join(w for w, _, _, _ in asr[v][name])
            ref[name], ref_cuts[name] = reference_words(memo)
            hands[name] = [hand_prompt(t) for t, _, _ in memo]
        hw, hcuts = harvard(rostrum)

        print(f"memos: {len(MEMOS)}, hand cuts: {sum(len(c) for c in ref_cuts.values())}, "
              f"hand prompts: {sum(len(h) for h in hands.values())}; cut match tolerance {TOL} s")
        print("rows: boundary precision / recall / F1 and exact prompts, per source of words")
        head = f"{'pause_s':>7}"
        for label in ["reference words"] + [f"recogniser ({v})" for v in voices]:
            head += f" | {label:>23}"
        print(head + f" | {'harvard (human)':>15}")
        for th in THRESHOLDS:
            row = f"{th:7.2f}"
            for words, at in [(ref, ref_cuts)] + [(asr[v], cuts[v]) for v in voices]:
                p, r, f, x, h = totals(split(tool, words, th), at, hands)
                row += f" | {p:4.2f} {r:4.2f} {f:4.2f} {x:3d}/{h:<2d}"
            hv = split(tool, {"harvard": hw}, th)
            ph, rh, fh, _, _ = totals(hv, {"harvard": hcuts}, {"harvard": HARVARD_REF})
            print(row + f" | {ph:4.2f} {rh:4.2f} {fh:4.2f}")
        for v in voices:
            print(f"\nat the default (0.45 s), recogniser output of the {v} memos -> prompts:")
            for name, prompts in split(tool, asr[v], 0.45).items():
                print(f"  {name}: heard \"{heard[v][name]}\"")
                print(f"         hand  {hands[name]}")
                print(f"         split {[p[2] for p in prompts]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
