"""Sessions (recordings) over HTTP (API.md "Sessions"): upload (multipart and raw), the worker's
transcript and analysis, every accepted format, list filters and keyset pagination, the
transcript in four formats, the audio download (nginx, Range), PATCH, re-analysis, DELETE, and
tenancy: another user's session is a 404 exactly like an unknown id on every route.

Audio is real speech from ../shared/data/speech (16 kHz WAV + FLAC/MP3 originals); the other
formats are made at test time with sox/flac/lame/opusenc/oggenc/ffmpeg (scripts/deps.sh).

Catalogue rows: A30, A31, A32, A33, B22, B23, B24, B25, B59, plus the API worker's
memory while a 150 MB upload streams through it (upload.max_bytes at its default here;
test_uploads_bad.py runs with a small limit).
"""
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase, without_request_id  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA", os.path.join(stack.SOURCE, "..", "shared", "data", "speech"))
READ = os.path.join(SPEECH, "read")
TMPDIR = None
FIX = {}          # fixture name -> path
REAL = {}         # fixture name -> true duration in seconds
FORMATS = []      # (name, expected audio_format, path, seconds) for the format matrix
PRIMARY = {}      # the one long-lived, transcribed session most read-only tests look at
FINAL = ("done", "failed")
DONE_TIMEOUT = 120
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SRT_TIME = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
VTT_TIME = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"

# What API.md's Analysis object promises (units in the names).
ANALYSIS_KEYS = {
    "duration_s": None, "speech_s": None, "word_count": None, "wpm": None, "articulation_wpm": None,
    "fillers": {"count", "per_min", "words"},
    "pauses": {"count", "long_count", "longest_s", "mean_s"},
    "pitch": {"median_hz", "range_semitones", "monotone"},
    "volume": {"mean_dbfs", "variation_db"},
    "confidence": None,
    "vocabulary": {"unique_ratio", "repeated_phrases"},
    "hedges": {"count", "words"},
    "scores": {"pace", "fluency", "clarity", "confidence", "overall"},
    "tips": None,
}
SESSION_KEYS = {"id", "kind", "title", "status", "progress", "error", "duration_s", "audio_format",
                "patient_id", "project_id", "created_at", "updated_at"}
DOWNLOAD_TYPE = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg",
                 "mp3": "audio/mpeg", "webm": "audio/webm", "m4a": "audio/mp4"}


# --- fixtures ----------------------------------------------------------------------------------

def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")


def read_pcm(path):
    with wave.open(path, "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2), path
        return w.readframes(w.getnframes())


def write_wav(path, pcm, rate=16000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def fixture(name):
    with open(FIX[name], "rb") as f:
        return f.read()


def make_fixtures():
    """Everything is cut from real recordings; clips are 1-6 s to keep the worker quick."""
    t = TMPDIR
    go = read_pcm(os.path.join(READ, "ps_goforward.wav"))         # "go forward ten meters", 2.79 s
    never = read_pcm(os.path.join(READ, "ljspeech_lj001_0008.wav"))  # "has never been surpassed", 1.78 s
    # Two phrases with 1.5 s of digital silence between them: the subtitle formats must cut a cue there.
    pause = b"\0\0" * int(1.5 * 16000)
    FIX["primary"] = write_wav(os.path.join(t, "primary.wav"), go + pause + never)
    REAL["primary"] = (len(go) + len(pause) + len(never)) / 32000
    FIX["short"] = os.path.join(READ, "ljspeech_lj001_0008.wav")
    REAL["short"] = len(never) / 32000
    FIX["tiny"] = write_wav(os.path.join(t, "tiny.wav"), go[int(0.4 * 16000) * 2:int(1.2 * 16000) * 2])
    REAL["tiny"] = 0.8
    src = FIX["short"]
    # (name, expected audio_format, command making it); every one is the same 1.78 s of speech.
    recipes = [
        ("wav_u8.wav", "wav", ["sox", src, "-b", "8", "-e", "unsigned-integer"]),
        ("wav_s16.wav", "wav", None),  # the original
        ("wav_s24.wav", "wav", ["sox", src, "-b", "24"]),
        ("wav_s32.wav", "wav", ["sox", src, "-b", "32", "-e", "signed-integer"]),
        ("wav_f32.wav", "wav", ["sox", src, "-b", "32", "-e", "floating-point"]),
        ("wav_8k.wav", "wav", ["sox", src, "-r", "8000"]),
        ("wav_44k.wav", "wav", ["sox", src, "-r", "44100"]),
        ("wav_48k_stereo.wav", "wav", ["sox", src, "-r", "48000", "-c", "2"]),
        ("wav_16k_stereo.wav", "wav", ["sox", src, "-c", "2"]),
        ("clip.flac", "flac", ["flac", "-s", "-f", "-8", src, "-o"]),
        ("clip.ogg", "ogg", ["oggenc", "-Q", src, "-o"]),
        ("clip.opus", "opus", ["opusenc", "--quiet", src]),
        ("clip.mp3", "mp3", ["lame", "--quiet", src]),
        ("clip.webm", "webm", ["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", "libopus"]),
        ("clip.m4a", "m4a", ["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", "aac"]),
    ]
    FORMATS.clear()
    for name, fmt, cmd in recipes:
        out = os.path.join(t, name)
        if cmd is None:
            shutil.copyfile(src, out)
        else:
            run(*cmd, out)  # the output file is the last argument of every recipe
        FORMATS.append((name, fmt, out, REAL["short"]))
    # The originals shipped with the data set (a real FLAC and a real MP3), when present.
    for name, fmt in (("ljspeech_lj001_0006.flac", "flac"), ("ljspeech_lj001_0006.mp3", "mp3")):
        p = os.path.join(READ, "orig", name)
        if os.path.exists(p):
            FORMATS.append(("orig_" + name, fmt, p, 5.684))
    # A valid FLAC STREAMINFO (1 s of 16 kHz mono) and no audio frame at all: the header is
    # fine, decoding yields nothing: the job must fail for good, at once.
    FIX["flac_no_frames"] = os.path.join(t, "no_frames.flac")
    streaminfo = (bytes.fromhex("10001000") + b"\0" * 6 +
                  ((16000 << 44) | (0 << 41) | (15 << 36) | 16000).to_bytes(8, "big") + b"\0" * 16)
    with open(FIX["flac_no_frames"], "wb") as f:
        f.write(b"fLaC" + bytes([0x80, 0, 0, 34]) + streaminfo)


def setUpModule():
    global S, TMPDIR
    if not os.path.isdir(READ):
        raise unittest.SkipTest(f"speech data not found at {READ} (set ROSTRUM_SPEECH_DATA)")
    TMPDIR = tempfile.mkdtemp(prefix="rostrum-sessions-fx-")
    make_fixtures()
    S = Stack("sessions")


def tearDownModule():
    if S:
        S.stop()
    if TMPDIR:
        shutil.rmtree(TMPDIR, ignore_errors=True)


# --- HTTP helpers ------------------------------------------------------------------------------

def multipart(parts, boundary=None):
    """parts: [(name, value bytes|str, filename or None, content type or None)]."""
    boundary = boundary or "rostrum" + secrets.token_hex(12)
    out = []
    for name, value, filename, ctype in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        head = f"--{boundary}\r\nContent-Disposition: {disp}\r\n"
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        out.append(head.encode() + b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def upload(token, data, filename="clip.wav", ctype="audio/wav", **fields):
    parts = [("file", data, filename, ctype)] + [(k, v, None, None) for k, v in fields.items()]
    body, content_type = multipart(parts)
    return S.request("POST", f"{API}/sessions", body=body, token=token, content_type=content_type)


def new_patient(token):
    """A patient of the caller's: a session's patient_id must name one (issue 13)."""
    r = S.post(f"{API}/patients", {"name": "Session Patient"}, token=token)
    assert r.status == 201, r
    return r.json()["id"]


def upload_raw(token, data, content_type, query=""):
    return S.request("POST", f"{API}/sessions" + (f"?{query}" if query else ""), body=data,
                     token=token, content_type=content_type)


def accepted(tc, r):
    tc.assertEqual(r.status, 202, r)
    s = r.json()
    tc.assertEqual(s["status"], "queued", s)
    tc.assertEqual(r.header("location"), f"{API}/sessions/{s['id']}", r.headers)
    return s


def wait_final(sid, token, timeout=DONE_TIMEOUT):
    """Polls GET /sessions/{id} until done or failed; returns the session."""
    last = {}

    def finished():
        r = S.get(f"{API}/sessions/{sid}", token=token)
        assert r.status == 200, r
        last["s"] = r.json()
        if last["s"]["status"] in FINAL:
            return True
        S.ensure_job_worker()
        return False

    S.wait_until(finished, timeout, what=f"session {sid} to be done or failed (last: {last.get('s')})")
    return last["s"]


def wait_all_final(ids, token, timeout=DONE_TIMEOUT):
    out, pending = {}, list(ids)

    def finished():
        for sid in list(pending):
            r = S.get(f"{API}/sessions/{sid}", token=token)
            assert r.status == 200, r
            if r.json()["status"] in FINAL:
                out[sid] = r.json()
                pending.remove(sid)
        if pending:
            S.ensure_job_worker()
        return not pending

    S.wait_until(finished, timeout, what=f"sessions {pending} to finish")
    return out


def fingerprint():
    """S.fingerprint() after the job queue drained."""
    S.quiesce()
    return S.fingerprint()


def primary():
    """The transcribed primary clip of one user, uploaded once and shared by read-only tests."""
    if not PRIMARY:
        user, token, _ = S.new_user()
        data = fixture("primary")
        r = upload(token, data, filename="primary.wav", title="Primary clip", kind="scribe")
        assert r.status == 202, r
        PRIMARY.update(user=user, token=token, data=data, created=r.json(), location=r.header("location"),
                       session=wait_final(r.json()["id"], token))
    return PRIMARY


class Base(ApiCase):
    def assertUnchanged(self, before, files_before=None):
        self.assertEqual(fingerprint(), before, "the database changed after a refused request")
        if files_before is not None:
            self.assertEqual(S.audio_files(), files_before, "a refused request left a file in audio/")
        self.assertEqual(os.listdir(os.path.join(S.dir, "audio", "tmp")), [], "audio/tmp is not empty")

    def assertSessionShape(self, s):
        self.assertTrue(SESSION_KEYS <= set(s), f"missing {SESSION_KEYS - set(s)} in {s}")
        self.assertRegex(s["id"], UUID_RE)
        self.assertIn(s["kind"], ("practice", "scribe", "interview", "memo"))
        self.assertIn(s["status"], ("queued", "processing", "done", "failed"))
        self.assertTrue(0 <= s["progress"] <= 1, s)
        self.assertRegex(s["created_at"], TIME_RE)
        self.assertRegex(s["updated_at"], TIME_RE)
        self.assertGreaterEqual(s["updated_at"], s["created_at"])

    def assertTranscript(self, t, duration):
        self.assertEqual(set(t), {"text", "words", "engine"}, t)
        self.assertIsInstance(t["text"], str)
        self.assertTrue(t["engine"], t)
        prev_start = 0
        for w in t["words"]:
            self.assertEqual(set(w), {"word", "start_s", "end_s", "confidence", "filler"}, w)
            self.assertTrue(w["word"], w)
            self.assertIsInstance(w["filler"], bool, w)
            self.assertTrue(0 <= w["confidence"] <= 1, w)
            self.assertTrue(0 <= w["start_s"] <= w["end_s"] <= duration + 0.1, (w, duration))
            self.assertGreaterEqual(w["start_s"], prev_start, "words out of order")
            prev_start = w["start_s"]

    def assertAnalysis(self, a, duration):
        self.assertIsInstance(a, dict)
        for key, sub in ANALYSIS_KEYS.items():
            self.assertIn(key, a, f"analysis lacks {key}: {a}")
            if sub:
                self.assertIsInstance(a[key], dict, key)
                self.assertTrue(sub <= set(a[key]), f"analysis.{key} lacks {sub - set(a[key])}")
        num = (int, float)
        for k in ("duration_s", "speech_s", "wpm", "articulation_wpm", "confidence"):
            self.assertIsInstance(a[k], num, k)
            self.assertGreaterEqual(a[k], 0, k)
        self.assertIsInstance(a["word_count"], int)
        self.assertAlmostEqual(a["duration_s"], duration, delta=0.15)
        self.assertLessEqual(a["speech_s"], a["duration_s"] + 0.05)
        self.assertIsInstance(a["fillers"]["words"], dict)
        for word, n in a["fillers"]["words"].items():
            self.assertIsInstance(n, int, word)
        self.assertIsInstance(a["pitch"]["monotone"], bool)
        self.assertIsInstance(a["vocabulary"]["repeated_phrases"], list)
        self.assertIsInstance(a["hedges"]["words"], (dict, list))
        for k, v in a["scores"].items():
            self.assertTrue(isinstance(v, num) and 0 <= v <= 100, f"scores.{k} = {v!r}")
        self.assertIsInstance(a["tips"], list)
        for tip in a["tips"]:
            self.assertIsInstance(tip, str)


# --- upload and the result ---------------------------------------------------------------------

class A_Upload(Base):
    def test_multipart_upload_transcribed_and_analysed(self):
        p = primary()
        c = p["created"]
        self.assertSessionShape(c)
        self.assertEqual((c["kind"], c["title"], c["status"], c["progress"], c["error"]),
                         ("scribe", "Primary clip", "queued", 0, None))
        self.assertEqual(c["audio_format"], "wav")
        self.assertAlmostEqual(c["duration_s"], REAL["primary"], delta=0.02)
        self.assertNotIn("transcript", c)
        s = p["session"]
        self.assertSessionShape(s)
        self.assertEqual(s["status"], "done", s)
        self.assertEqual((s["progress"], s["error"]), (1, None), s)
        self.assertEqual((s["id"], s["title"], s["kind"]), (c["id"], "Primary clip", "scribe"))
        self.assertAlmostEqual(s["duration_s"], REAL["primary"], delta=0.05)
        self.assertTranscript(s["transcript"], REAL["primary"])
        # Stock pocketsphinx hears most of "go forward ten meters ... has never been surpassed".
        ref = set("go forward ten meters has never been surpassed".split())
        heard = set(s["transcript"]["text"].split())
        self.assertGreaterEqual(len(ref & heard), 3, s["transcript"]["text"])
        self.assertGreaterEqual(len(s["transcript"]["words"]), 4)
        self.assertAnalysis(s["analysis"], REAL["primary"])
        self.assertEqual(s["analysis"]["word_count"], len(s["transcript"]["words"]))
        # The 1.5 s silence is a pause the analysis sees.
        self.assertGreaterEqual(s["analysis"]["pauses"]["longest_s"], 1.0, s["analysis"]["pauses"])
        # Location answers the same session.
        self.assertEqual(p["location"], f"{API}/sessions/{c['id']}")
        r = S.get(p["location"], token=p["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), s)

    def test_raw_flac_with_fields_in_query(self):
        _, token, _ = S.new_user()
        path = os.path.join(READ, "orig", "ljspeech_lj001_0006.flac")
        if not os.path.exists(path):  # made from the WAV when the original is absent
            path = os.path.join(TMPDIR, "raw.flac")
            run("flac", "-s", "-f", os.path.join(READ, "ljspeech_lj001_0006.wav"), "-o", path)
        with open(path, "rb") as f:
            data = f.read()
        pid = new_patient(token)
        # project_id must name a project the uploader can see (issue 11)
        prj = S.post(f"{API}/projects", {"name": "raw flac"}, token=token).json()["id"]
        r = upload_raw(token, data, "audio/flac",
                       f"title=Raw%20FLAC%20%C3%A9&kind=memo&language=en-us&patient_id={pid}&project_id={prj}")
        s = accepted(self, r)
        self.assertEqual((s["kind"], s["title"], s["audio_format"], s["patient_id"], s["project_id"]),
                         ("memo", "Raw FLAC é", "flac", pid, prj), s)
        self.assertAlmostEqual(s["duration_s"], 5.684, delta=0.05)
        done = wait_final(s["id"], token)
        self.assertEqual(done["status"], "done", done)
        self.assertTranscript(done["transcript"], 5.684)
        self.assertTrue(done["transcript"]["words"], done)
        self.assertAnalysis(done["analysis"], 5.684)
        r = S.get(f"{API}/sessions/{s['id']}/audio", token=token)
        self.assertEqual((r.status, r.header("content-type")), (200, "audio/flac"), r)
        self.assertEqual(r.body, data)

    def test_chunked_request_body_accepted(self):
        _, token, _ = S.new_user()
        body, ctype = multipart([("file", fixture("tiny"), "tiny.wav", "audio/wav")])
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30)
        try:
            conn.request("POST", f"{API}/sessions", body=(body[i:i + 4000] for i in range(0, len(body), 4000)),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": ctype,
                                  "Transfer-Encoding": "chunked"}, encode_chunked=True)
            resp = conn.getresponse()
            r = stack.Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], resp.read())
        finally:
            conn.close()
        s = accepted(self, r)
        self.assertAlmostEqual(s["duration_s"], REAL["tiny"], delta=0.01)
        self.assertEqual(wait_final(s["id"], token)["status"], "done")

    def test_boundary_of_70_chars_quoted_and_multibyte_title(self):
        _, token, _ = S.new_user()
        b = "'()+_,-./:=?" + "a" * 58  # 70 characters, all bchars
        title = "é" * 199 + "🎤"       # 200 characters, 402 bytes: the cap counts characters
        body, _ = multipart([("file", fixture("tiny"), "t.wav", "audio/wav"), ("title", title, None, None)], b)
        r = S.request("POST", f"{API}/sessions", body=body, token=token,
                      content_type=f'multipart/form-data; boundary="{b}"')
        s = accepted(self, r)
        self.assertEqual(s["title"], title)
        self.assertEqual(wait_final(s["id"], token)["title"], title)

    def test_language_not_installed_422_lists_en_us(self):
        _, token, _ = S.new_user()
        before, files = fingerprint(), S.audio_files()
        body = self.assertProblem(upload(token, fixture("tiny"), language="fr"), 422)
        self.assertIn("en-us", json.dumps(body), body)
        self.assertIn("language", [e.get("field") for e in body.get("errors", [])], body)
        self.assertProblem(upload_raw(token, fixture("tiny"), "audio/wav", "language=fr"), 422)
        self.assertUnchanged(before, files)

    def test_undecodable_flac_fails_for_good_without_retry(self):
        """STREAMINFO says 1 s, no frame follows: refused at once (422/415), or accepted and the
        job fails permanently (attempts = 1) with an error; transcript and reanalyze answer 409."""
        _, token, _ = S.new_user()
        r = upload(token, fixture("flac_no_frames"), filename="x.flac", ctype="audio/flac")
        if r.status in (415, 422):
            self.assertProblem(r, r.status)
            return
        s = accepted(self, r)
        done = wait_final(s["id"], token)
        self.assertEqual(done["status"], "failed", done)
        self.assertTrue(done["error"], done)
        self.assertNotIn("transcript", done)
        self.assertEqual(S.sql(f"SELECT kind, status, attempts FROM jobs WHERE session_id='{s['id']}'"),
                         [["transcribe", "dead", "1"]])
        self.assertProblem(S.get(f"{API}/sessions/{s['id']}/transcript", token=token), 409)
        self.assertProblem(S.post(f"{API}/sessions/{s['id']}/reanalyze", token=token), 409)
        self.assertEqual(S.get(f"{API}/sessions/{s['id']}", token=token).json()["status"], "failed")


class B_Formats(Base):
    def test_every_format_accepted_and_transcribed(self):
        _, token, _ = S.new_user()
        ids = {}
        for name, fmt, path, seconds in FORMATS:
            with open(path, "rb") as f:
                data = f.read()
            # The declared type is deliberately useless: the format is recognised by content.
            r = upload(token, data, filename=name, ctype="application/octet-stream", title=name)
            with self.subTest(upload=name):
                self.assertEqual(r.status, 202, r)
                if r.status == 202:
                    s = r.json()
                    self.assertEqual(s["audio_format"], fmt, s)
                    self.assertAlmostEqual(s["duration_s"] or 0, seconds, delta=0.15, msg=name)
                    ids[s["id"]] = (name, fmt, data, seconds)
        results = wait_all_final(list(ids), token)
        for sid, (name, fmt, data, seconds) in ids.items():
            with self.subTest(result=name):
                s = results[sid]
                self.assertEqual(s["status"], "done", s)
                self.assertAlmostEqual(s["duration_s"], seconds, delta=0.15)
                self.assertTranscript(s["transcript"], s["duration_s"])
                self.assertTrue(s["transcript"]["words"], f"{name}: nothing recognised")
                self.assertAnalysis(s["analysis"], s["duration_s"])
                r = S.get(f"{API}/sessions/{sid}/audio", token=token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("content-type"), DOWNLOAD_TYPE[fmt], name)
                self.assertEqual(r.body, data, f"{name}: the download differs from the upload")


# --- list ---------------------------------------------------------------------------------------

class C_List(Base):
    @classmethod
    def setUpClass(cls):
        cls.user, cls.token, _ = S.new_user()
        cls.patient = new_patient(cls.token)
        kinds = ["practice", "scribe", "memo", "interview", "memo", "practice", "memo"]
        cls.ids = []
        for i, kind in enumerate(kinds):
            fields = {"kind": kind, "title": f"list {i}"}
            if i in (1, 4):
                fields["patient_id"] = cls.patient
            r = upload(cls.token, fixture("tiny"), **fields)
            assert r.status == 202, r
            cls.ids.append(r.json()["id"])
        r = upload(cls.token, fixture("flac_no_frames"), filename="x.flac")
        cls.failed = r.json()["id"] if r.status == 202 else None
        all_ids = cls.ids + ([cls.failed] if cls.failed else [])
        cls.final = wait_all_final(all_ids, cls.token)
        cls.kinds = dict(zip(cls.ids, kinds))
        # created_at has a second's resolution in the API: the order within a second comes from
        # the database.
        cls.db_order = [i for (i,) in S.sql(
            f"SELECT id FROM sessions WHERE user_id='{cls.user['id']}' ORDER BY created_at DESC, id DESC")]

    def list(self, query="", token=None):
        r = S.get(f"{API}/sessions" + (f"?{query}" if query else ""), token=token or self.token)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(set(body), {"items", "next_cursor"}, body)
        return body

    def list_all(self, query, limit):
        ids, cursor, pages = [], None, 0
        while True:
            q = f"limit={limit}" + (f"&{query}" if query else "") + (f"&cursor={cursor}" if cursor else "")
            body = self.list(q)
            self.assertLessEqual(len(body["items"]), limit)
            ids += [s["id"] for s in body["items"]]
            pages += 1
            self.assertLess(pages, 100)
            cursor = body["next_cursor"]
            if cursor is None:
                return ids
            self.assertEqual(len(body["items"]), limit, "a page before the last must be full")

    def test_default_list_newest_first(self):
        body = self.list()
        self.assertIsNone(body["next_cursor"])
        ids = [s["id"] for s in body["items"]]
        self.assertEqual(ids, self.db_order)
        for s in body["items"]:
            self.assertSessionShape(s)
            self.assertNotIn("transcript", s)  # the list is the session only

    def test_pagination_covers_everything_once(self):
        for limit in (1, 2, 3, 100):
            with self.subTest(limit=limit):
                ids = self.list_all("", limit)
                self.assertEqual(ids, self.db_order)
                self.assertEqual(len(set(ids)), len(ids))

    def test_filter_kind_with_pagination(self):
        memos = [i for i in self.db_order if self.kinds.get(i) == "memo"]
        self.assertEqual(len(memos), 3)
        self.assertEqual(self.list_all("kind=memo", 2), memos)
        self.assertEqual([s["kind"] for s in self.list("kind=scribe")["items"]], ["scribe"])
        self.assertEqual(self.list("kind=interview")["items"][0]["id"],
                         [i for i in self.ids if self.kinds[i] == "interview"][0])

    def test_filter_status(self):
        done = [s["id"] for s in self.list("status=done")["items"]]
        self.assertEqual(set(done), set(self.ids))
        self.assertEqual(self.list("status=queued")["items"], [])
        self.assertEqual(self.list("status=processing")["items"], [])
        failed = [s["id"] for s in self.list("status=failed")["items"]]
        self.assertEqual(failed, [self.failed] if self.failed else [])
        self.assertEqual(self.list_all("status=done&kind=memo", 1),
                         [i for i in self.db_order if self.kinds.get(i) == "memo"])

    def test_filter_patient_id(self):
        got = [s["id"] for s in self.list(f"patient_id={self.patient}")["items"]]
        self.assertEqual(set(got), {self.ids[1], self.ids[4]})
        self.assertEqual(self.list(f"patient_id={uuid.uuid4()}")["items"], [])
        self.assertEqual(self.list(f"project_id={uuid.uuid4()}")["items"], [])

    def test_filter_from_to(self):
        everything = self.db_order
        self.assertEqual([s["id"] for s in self.list("from=2000-01-01T00:00:00Z")["items"]], everything)
        self.assertEqual([s["id"] for s in self.list("to=2999-01-01T00:00:00Z")["items"]], everything)
        self.assertEqual(self.list("from=2999-01-01T00:00:00Z")["items"], [])
        self.assertEqual(self.list("to=2000-01-01T00:00:00Z")["items"], [])
        self.assertEqual([s["id"] for s in self.list("from=2000-01-01")["items"]], everything)
        # The window [from, to) around the oldest session's second holds it and the others of that second.
        oldest = self.final[self.db_order[-1]]
        sec = oldest["created_at"][:19] + "Z"
        got = [s["id"] for s in self.list(f"from={sec}")["items"]]
        self.assertEqual(got, everything)
        got = [s["id"] for s in self.list(f"to={sec}")["items"]]
        self.assertEqual(got, [])
        # An offset is honoured: 00:00+01:00 is 23:00Z the day before.
        self.assertEqual([s["id"] for s in self.list("from=2000-01-01T00:00:00%2B01:00")["items"]], everything)
        newest = self.final[self.db_order[0]]
        self.assertIn(newest["id"], [s["id"] for s in self.list(f"from={newest['created_at']}&to=2999-01-01T00:00:00Z")["items"]])

    def check_400(self, queries, status=400):
        before = fingerprint()
        for q in queries:
            with self.subTest(q=q):
                r = S.get(f"{API}/sessions?{q.replace(' ', '%20')}", token=self.token)
                self.assertLess(r.status, 500, r)
                self.assertProblem(r, status)
        self.assertUnchanged(before)

    def test_bad_parameters_400(self):
        self.check_400(("kind=bogus", "kind=", "status=bogus", "status=DONE", "from=yesterday", "to=tomorrow",
                        "from=1' OR '1'='1", "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5",
                        "cursor=garbage", "cursor=", "patient_id=x", "project_id=1"))
        # An unknown parameter is a 422 naming it (issue 10: one rule for every route).
        before = fingerprint()
        for q in ("sort=created_at;DROP TABLE sessions", "offset=1", "user_id=" + str(uuid.uuid4())):
            with self.subTest(q=q):
                r = S.get(f"{API}/sessions?{q.replace(' ', '%20')}", token=self.token)
                body = self.assertProblem(r, 422)
                self.assertEqual([e["field"] for e in body["errors"]], [q.split("=")[0]], body)
        self.assertUnchanged(before)

    def test_impossible_dates_400(self):
        """Shaped like RFC 3339 but not a real instant: still the client's 400 (like from=yesterday),
        never PostgreSQL's error turned into a 422 without a field, or a 500."""
        self.check_400(("from=2026-13-45T00:00:00Z", "to=2026-01-01T25:00:00Z", "from=2026-02-30",
                        "from=2026-01-01T00:00:00%2B99:00", "to=2026-01-01T00:00:00-99:00",
                        "from=2026-01-01T00:00:00%2B16:00", "to=2026-01-01T00:00:00Z-"))

    def test_limit_out_of_range_and_repeated(self):
        """B25/B26: a huge limit is refused or clamped to 100; a repeated one is deterministic."""
        r = S.get(f"{API}/sessions?limit=1000000", token=self.token)
        if r.status == 200:
            self.assertLessEqual(len(r.json()["items"]), 100)
        else:
            self.assertProblem(r, 400)
        first = S.get(f"{API}/sessions?limit=1&limit=100", token=self.token)
        again = S.get(f"{API}/sessions?limit=1&limit=100", token=self.token)
        self.assertEqual((first.status, first.body if first.status == 200 else None),
                         (again.status, again.body if again.status == 200 else None))
        if first.status == 200:
            self.assertLessEqual(len(first.json()["items"]), 100)
        else:
            self.assertProblem(first, 400)

    def test_anonymous_401(self):
        self.assertProblem(S.get(f"{API}/sessions"), 401)
        self.assertProblem(S.get(f"{API}/sessions", token="not-a-token"), 401)


# --- transcript formats ----------------------------------------------------------------------------

def srt_seconds(m):
    h, mi, s, ms = (int(x) for x in m)
    return h * 3600 + mi * 60 + s + ms / 1000


class D_Transcript(Base):
    def get(self, query, token=None):
        p = primary()
        return S.get(f"{API}/sessions/{p['session']['id']}/transcript{query}", token=token or p["token"])

    def test_json_is_the_sessions_transcript(self):
        t = primary()["session"]["transcript"]
        for q in ("", "?format=json"):
            r = self.get(q)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.header("content-type").startswith("application/json"), r)
            self.assertEqual(r.json(), t)

    def test_txt(self):
        r = self.get("?format=txt")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/plain"), r)
        self.assertEqual(r.body.decode().rstrip("\n"), primary()["session"]["transcript"]["text"])

    def check_cues(self, cues, words):
        """Cue times within the audio, in order; the cues' text is the words in order; the 1.5 s
        pause in the primary clip splits the two phrases."""
        self.assertGreaterEqual(len(cues), 2, cues)
        prev_end = 0
        for start, end, text in cues:
            self.assertLessEqual(start, end)
            self.assertGreaterEqual(start, prev_end - 0.001)
            self.assertLessEqual(end, REAL["primary"] + 0.1)
            self.assertTrue(text.strip())
            prev_end = end
        self.assertEqual(" ".join(c[2] for c in cues).split(), [w["word"] for w in words])
        for w in words:  # every word lies inside some cue
            self.assertTrue(any(s - 0.001 <= w["start_s"] and w["end_s"] <= e + 0.001 for s, e, _ in cues), w)

    def test_srt_structure(self):
        r = self.get("?format=srt")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("application/x-subrip"), r)
        text = r.body.decode()
        self.assertNotIn("\r", text.replace("\r\n", "\n"))
        blocks = [b for b in text.replace("\r\n", "\n").strip("\n").split("\n\n")]
        cues = []
        for i, block in enumerate(blocks, 1):
            lines = block.split("\n")
            self.assertGreaterEqual(len(lines), 3, block)
            self.assertEqual(lines[0], str(i), block)
            m = re.fullmatch(SRT_TIME + " --> " + SRT_TIME, lines[1])
            self.assertIsNotNone(m, lines[1])
            cues.append((srt_seconds(m.groups()[:4]), srt_seconds(m.groups()[4:]), " ".join(lines[2:])))
        self.check_cues(cues, primary()["session"]["transcript"]["words"])

    def test_vtt_structure(self):
        r = self.get("?format=vtt")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/vtt"), r)
        text = r.body.decode()
        self.assertTrue(text.startswith("WEBVTT\n") or text.startswith("WEBVTT\r\n"), text[:40])
        blocks = text.replace("\r\n", "\n").strip("\n").split("\n\n")[1:]
        cues = []
        for block in blocks:
            lines = block.split("\n")
            if not re.fullmatch(VTT_TIME + " --> " + VTT_TIME + "( .*)?", lines[0]):
                lines = lines[1:]  # an optional cue identifier
            m = re.fullmatch(VTT_TIME + " --> " + VTT_TIME + "( .*)?", lines[0])
            self.assertIsNotNone(m, block)
            cues.append((srt_seconds(m.groups()[:4]), srt_seconds(m.groups()[4:8]), " ".join(lines[1:])))
        self.check_cues(cues, primary()["session"]["transcript"]["words"])

    def test_bad_format_400(self):
        for q in ("?format=xml", "?format=JSON", "?format=", "?format=srt&format=vtt&x=1"):
            with self.subTest(q=q):
                self.assertProblem(self.get(q), 400)
        self.assertProblem(self.get("?fmt=txt"), 422)  # a parameter the route does not take

    def test_before_done_409(self):
        """The worker is paused (SIGSTOP on its master and decoder processes) so that the
        session is certainly still queued; SIGCONT lets it finish, and the transcript appears."""
        _, token, _ = S.new_user()
        # The master and every decoder process: a decoder left running would claim the job.
        pids = S.job_worker_pids()
        self.assertGreater(len(pids), 1, "the worker has no decoder processes")
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            s = accepted(self, upload(token, fixture("tiny")))
            got = S.get(f"{API}/sessions/{s['id']}", token=token).json()
            self.assertEqual(got["status"], "queued", got)
            self.assertNotIn("transcript", got)
            self.assertNotIn("analysis", got)
            for fmt in ("json", "txt", "srt", "vtt"):
                self.assertProblem(S.get(f"{API}/sessions/{s['id']}/transcript?format={fmt}", token=token), 409)
            self.assertProblem(S.post(f"{API}/sessions/{s['id']}/reanalyze", token=token), 409)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        self.assertEqual(wait_final(s["id"], token)["status"], "done")
        self.assertEqual(S.get(f"{API}/sessions/{s['id']}/transcript?format=txt", token=token).status, 200)


# --- audio download --------------------------------------------------------------------------------

class E_Audio(Base):
    def url(self):
        return f"{API}/sessions/{primary()['session']['id']}/audio"

    def test_download_is_the_upload(self):
        p = primary()
        r = S.get(self.url(), token=p["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "audio/wav")
        self.assertTrue((r.header("content-disposition") or "").startswith("attachment"), r.headers)
        self.assertIn("nosniff", r.header_all("x-content-type-options"))
        self.assertEqual(int(r.header("content-length")), len(p["data"]))
        self.assertEqual(r.body, p["data"])

    def test_ranges(self):
        p = primary()
        data, n = p["data"], len(p["data"])
        for rng, lo, hi in (("bytes=10-19", 10, 19), ("bytes=0-0", 0, 0), ("bytes=-100", n - 100, n - 1),
                            (f"bytes={n - 5}-", n - 5, n - 1), (f"bytes=44-{n * 2}", 44, n - 1)):
            with self.subTest(range=rng):
                r = S.get(self.url(), token=p["token"], headers={"Range": rng})
                self.assertEqual(r.status, 206, r)
                self.assertEqual(r.header("content-range"), f"bytes {lo}-{hi}/{n}")
                self.assertEqual(r.body, data[lo:hi + 1])
                self.assertEqual(r.header("content-type"), "audio/wav")
                self.assertIn("nosniff", r.header_all("x-content-type-options"))

    def test_unsatisfiable_range_416_problem(self):
        p = primary()
        r = S.get(self.url(), token=p["token"], headers={"Range": f"bytes={len(p['data']) + 10}-"})
        self.assertProblem(r, 416)

    def test_head_and_anonymous(self):
        p = primary()
        r = S.request("HEAD", self.url(), token=p["token"])
        self.assertEqual((r.status, r.header("content-type"), r.body), (200, "audio/wav", b""), r)
        self.assertProblem(S.get(self.url()), 401)
        self.assertProblem(S.get(self.url(), token=p["token"] + "x"), 401)

    def test_internal_audio_location_unreachable(self):
        p = primary()
        name = f"{p['session']['id']}.wav"
        for path in (f"/_audio/{name}", f"/_audio/../audio/{name}", f"/api/v1/../_audio/{name}"):
            with self.subTest(path=path):
                r = S.get(path, token=p["token"])
                self.assertNotEqual(r.body, p["data"], path)
                self.assertNotEqual(r.header("content-type"), "audio/wav", path)


# --- PATCH, reanalyze, DELETE ------------------------------------------------------------------

def done_session(token, **fields):
    r = upload(token, fixture("short"), **fields)
    assert r.status == 202, r
    s = wait_final(r.json()["id"], token)
    assert s["status"] == "done", s
    return s


class F_Patch(Base):
    def test_patch_fields(self):
        _, token, _ = S.new_user()
        s = done_session(token, title="before")
        pid = new_patient(token)
        url = f"{API}/sessions/{s['id']}"
        body = {"title": "after ✓", "notes": "n" * 20000, "summary": "short summary", "patient_id": pid.upper()}
        r = S.request("PATCH", url, json_body=body, token=token)
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual((got["title"], got["notes"], got["summary"], got["patient_id"]),
                         ("after ✓", "n" * 20000, "short summary", pid))
        self.assertGreaterEqual(got["updated_at"], s["updated_at"])
        full = S.get(url, token=token).json()
        for k in ("title", "notes", "summary", "patient_id"):
            self.assertEqual(full[k], got[k])
        self.assertEqual(full["transcript"], s["transcript"])  # PATCH touches nothing else
        self.assertEqual(full["status"], "done")
        # Partial: only the fields sent change; null clears patient_id.
        r = S.request("PATCH", url, json_body={"patient_id": None}, token=token)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["patient_id"])
        self.assertEqual(r.json()["title"], "after ✓")
        r = S.request("PATCH", url, json_body={"title": ""}, token=token)
        self.assertEqual((r.status, r.json()["title"], r.json()["summary"]), (200, "", "short summary"))
        self.assertEqual(S.get(f"{API}/sessions?patient_id={pid}", token=token).json()["items"], [])
        # null clears summary and notes too, as the document's SessionUpdate says (issue 10's
        # generated schema made them nullable; before, null was ignored).
        r = S.request("PATCH", url, json_body={"summary": None}, token=token)
        self.assertEqual((r.status, r.json()["summary"], r.json()["notes"]), (200, None, "n" * 20000), r)
        r = S.request("PATCH", url, json_body={"notes": None, "title": "t"}, token=token)
        self.assertEqual((r.status, r.json()["notes"], r.json()["title"]), (200, None, "t"), r)
        self.assertIsNone(S.get(url, token=token).json()["notes"])

    def test_patch_refused(self):
        _, token, _ = S.new_user()
        s = done_session(token, title="keep")
        url = f"{API}/sessions/{s['id']}"
        before = fingerprint()
        cases = [
            ({"color": "red"}, 400), ({"status": "done"}, 400), ({"id": str(uuid.uuid4())}, 400),
            ({"title": 5}, 400), ({"notes": ["x"]}, 400),
            ({"title": "x" * 201}, 422), ({"notes": "x" * 20001}, 422), ({"summary": "x" * 20001}, 422),
            ({"patient_id": "not-a-uuid"}, 422), ({"patient_id": "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"}, 422),
        ]
        for body, status in cases:
            with self.subTest(body=str(body)[:60]):
                b = self.assertProblem(S.request("PATCH", url, json_body=body, token=token), status)
                if status == 422:
                    self.assertTrue(b.get("errors"), b)
        self.assertProblem(S.request("PATCH", url, body="{bad", content_type="application/json", token=token), 400)
        self.assertProblem(S.request("PATCH", url, body='{"title":"x"}', content_type="text/plain", token=token), 415)
        self.assertProblem(S.request("PATCH", url + "?x=1", json_body={"title": "x"}, token=token), 422)
        self.assertProblem(S.request("PATCH", f"{API}/sessions/{uuid.uuid4()}", json_body={"title": "x"}, token=token), 404)
        self.assertProblem(S.request("PATCH", url, json_body={"title": "x"}), 401)
        self.assertUnchanged(before)
        self.assertEqual(S.get(url, token=token).json()["title"], "keep")


class G_Reanalyze(Base):
    def test_reanalyze_runs_again(self):
        _, token, _ = S.new_user()
        s = done_session(token)
        url = f"{API}/sessions/{s['id']}"
        stamp = S.sql(f"SELECT created_at FROM analyses WHERE session_id='{s['id']}'")
        r = S.post(url + "/reanalyze", token=token)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.header("location"), url)
        self.assertIn(r.json()["status"], ("queued", "processing"))
        again = wait_final(s["id"], token)
        self.assertEqual(again["status"], "done", again)
        self.assertAnalysis(again["analysis"], REAL["short"])
        self.assertEqual(again["transcript"], s["transcript"])  # words are not re-recognised
        self.assertEqual(S.sql(f"SELECT kind, status, attempts FROM jobs WHERE session_id='{s['id']}' ORDER BY id"),
                         [["transcribe", "done", "1"], ["analyze", "done", "1"]])
        self.assertNotEqual(S.sql(f"SELECT created_at FROM analyses WHERE session_id='{s['id']}'"), stamp)
        self.assertProblem(S.post(f"{API}/sessions/{uuid.uuid4()}/reanalyze", token=token), 404)
        self.assertProblem(S.post(url + "/reanalyze"), 401)

    def test_reanalyze_announces_its_state_in_its_transaction(self):
        """db::start_analysis: the session's move to processing at 0.5 is published with the
        job that causes it (before, the owner heard nothing until a worker took the job)."""
        user, token, _ = S.new_user()
        s = done_session(token)
        seq = S.sql(f"SELECT coalesce(max(seq), 0) FROM events WHERE user_id='{user['id']}'")[0][0]
        self.assertEqual(S.post(f"{API}/sessions/{s['id']}/reanalyze", token=token).status, 202)
        first = S.sql(f"SELECT event, data::text FROM events WHERE user_id='{user['id']}' "
                      f"AND seq > {seq} ORDER BY seq LIMIT 1")
        self.assertEqual(first, [["session.progress",
                                  f'{{"id": "{s["id"]}", "status": "processing", "progress": 0.5}}']])
        wait_final(s["id"], token)


class H_Delete(Base):
    def test_delete_removes_everything(self):
        _, token, _ = S.new_user()
        s = done_session(token)
        sid = s["id"]
        path = os.path.join(S.dir, "audio", f"{sid}.wav")
        self.assertTrue(os.path.exists(path))
        for table, col in (("words", "session_id"), ("analyses", "session_id"), ("jobs", "session_id")):
            self.assertNotEqual(S.sql(f"SELECT count(*) FROM {table} WHERE {col}='{sid}'"), [["0"]], table)
        r = S.request("DELETE", f"{API}/sessions/{sid}", token=token)
        self.assertEqual((r.status, r.body), (204, b""), r)
        for sub in ("", "/audio", "/transcript", "/transcript?format=srt"):
            self.assertProblem(S.get(f"{API}/sessions/{sid}{sub}", token=token), 404)
        self.assertProblem(S.post(f"{API}/sessions/{sid}/reanalyze", token=token), 404)
        self.assertProblem(S.request("PATCH", f"{API}/sessions/{sid}", json_body={"title": "x"}, token=token), 404)
        self.assertProblem(S.request("DELETE", f"{API}/sessions/{sid}", token=token), 404)
        self.assertFalse(os.path.exists(path), "the audio file is still there")
        self.assertFalse([n for n in os.listdir(os.path.join(S.dir, "audio")) if sid in n])
        for table, col in (("sessions", "id"), ("words", "session_id"), ("analyses", "session_id"),
                           ("jobs", "session_id")):
            self.assertEqual(S.sql(f"SELECT count(*) FROM {table} WHERE {col}='{sid}'"), [["0"]], table)
        self.assertNotIn(sid, [x["id"] for x in S.get(f"{API}/sessions", token=token).json()["items"]])

    def test_delete_refused(self):
        _, token, _ = S.new_user()
        s = done_session(token)
        before, files = fingerprint(), S.audio_files()
        self.assertProblem(S.request("DELETE", f"{API}/sessions/{s['id']}?force=1", token=token), 422)
        self.assertProblem(S.request("DELETE", f"{API}/sessions/{s['id']}"), 401)
        self.assertProblem(S.request("DELETE", f"{API}/sessions/{uuid.uuid4()}", token=token), 404)
        self.assertUnchanged(before, files)


# --- tenancy (A30-A33, B59) -------------------------------------------------------------------------

class I_Ownership(Base):
    @classmethod
    def setUpClass(cls):
        cls.a_user, cls.a, _ = S.new_user()
        cls.b_user, cls.b, _ = S.new_user()
        cls.a_ids = [done_session(cls.a, kind="memo", title="A's")["id"] for _ in range(2)]
        cls.b_ids = [done_session(cls.b, kind="memo", title="B's")["id"]]

    def routes(self, sid):
        """Every route that takes a session id: (method, path, body)."""
        u = f"{API}/sessions/{sid}"
        return [("GET", u, None), ("PATCH", u, {"title": "mine now"}), ("DELETE", u, None),
                ("GET", u + "/audio", None), ("HEAD", u + "/audio", None),
                ("GET", u + "/transcript", None), ("GET", u + "/transcript?format=txt", None),
                ("GET", u + "/transcript?format=srt", None), ("GET", u + "/transcript?format=vtt", None),
                ("POST", u + "/reanalyze", None)]

    def call(self, method, path, body, token):
        return S.request(method, path, json_body=body, token=token)

    def test_b_gets_404_like_a_random_id(self):
        before, files = fingerprint(), S.audio_files()
        for sid in self.a_ids:
            for (method, path, body), (_, rpath, _) in zip(self.routes(sid), self.routes(uuid.uuid4())):
                with self.subTest(route=f"{method} {path}"):
                    theirs = self.call(method, path, body, self.b)
                    random = self.call(method, rpath, body, self.b)
                    self.assertEqual(theirs.status, 404, theirs)
                    self.assertEqual(random.status, 404, random)
                    self.assertEqual(theirs.header("content-type"), random.header("content-type"))
                    if method != "HEAD":
                        self.assertProblem(theirs, 404)
                        self.assertEqual(without_request_id(theirs), without_request_id(random))
                    self.assertNotIn(b"RIFF", theirs.body)
        self.assertUnchanged(before, files)
        for sid in self.a_ids:  # A still has everything
            r = S.get(f"{API}/sessions/{sid}", token=self.a)
            self.assertEqual((r.status, r.json()["title"], r.json()["status"]), (200, "A's", "done"))

    def test_upload_to_a_session_id_is_no_route(self):
        """B59: there is no upload to an existing session; B's attempt at A's id answers like a
        random id and stores nothing."""
        before, files = fingerprint(), S.audio_files()
        data = fixture("tiny")
        for sid in (self.a_ids[0], uuid.uuid4()):
            for path in (f"{API}/sessions/{sid}/audio", f"{API}/sessions/{sid}"):
                r = S.request("POST", path, body=data, content_type="audio/wav", token=self.b)
                self.assertIn(r.status, (404, 405), r)
        mine = S.request("POST", f"{API}/sessions/{self.a_ids[0]}/audio", body=data, content_type="audio/wav", token=self.b)
        other = S.request("POST", f"{API}/sessions/{uuid.uuid4()}/audio", body=data, content_type="audio/wav", token=self.b)
        self.assertEqual(mine.status, other.status)
        self.assertUnchanged(before, files)

    def test_lists_hold_only_own_sessions(self):
        queries = ["", "kind=memo", "status=done", "from=2000-01-01T00:00:00Z", "to=2999-01-01T00:00:00Z",
                   "kind=memo&status=done", f"patient_id={uuid.uuid4()}"]
        for q in queries:
            for limit in (1, 100):
                with self.subTest(q=q, limit=limit):
                    ids, cursor = [], None
                    while True:
                        url = f"{API}/sessions?limit={limit}" + (f"&{q}" if q else "") + (f"&cursor={cursor}" if cursor else "")
                        r = S.get(url, token=self.b)
                        self.assertEqual(r.status, 200, r)
                        ids += [s["id"] for s in r.json()["items"]]
                        cursor = r.json()["next_cursor"]
                        if not cursor:
                            break
                    self.assertFalse(set(ids) & set(self.a_ids), q)
                    if "patient_id" not in q:
                        self.assertEqual(ids, self.b_ids)
        # A's cursor handed to B pages B's list, never A's.
        r = S.get(f"{API}/sessions?limit=1", token=self.a)
        cursor = r.json()["next_cursor"]
        self.assertIsNotNone(cursor)
        r = S.get(f"{API}/sessions?limit=100&cursor={cursor}", token=self.b)
        if r.status == 200:
            self.assertFalse({s["id"] for s in r.json()["items"]} & set(self.a_ids))
        else:
            self.assertProblem(r, 400)

    def test_random_and_foreign_ids_never_200(self):
        ids = [str(uuid.uuid4()) for _ in range(150)] + self.a_ids + [i.upper() for i in self.a_ids]
        statuses = {}
        for sid in ids:
            r = S.get(f"{API}/sessions/{sid}", token=self.b)
            statuses[r.status] = statuses.get(r.status, 0) + 1
        self.assertEqual(statuses, {404: len(ids)})
        for bad in ("1' OR '1'='1", "..%2f..%2fetc%2fpasswd", "%00", "%0a", "not-a-uuid",
                    self.a_ids[0] + "0", "{" + self.a_ids[0] + "}"):
            with self.subTest(id=bad):
                for suffix in ("", "/audio", "/transcript"):
                    r = S.get(f"{API}/sessions/{bad.replace(' ', '%20')}{suffix}", token=self.b)
                    self.assertIn(r.status, (400, 404), r)
        self.assertNotIn("22P02", S.log_text("log/api.log"))


# --- resources -------------------------------------------------------------------------------------

def proc_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class J_Memory(Base):
    def test_api_worker_memory_bounded_during_150mb_upload(self):
        """A 150 MB multipart upload streams through the API worker to disk. The WAV header claims
        8 kHz 8-bit, so the file is 18,750 s long: the probe refuses it (413, over upload.max_seconds)
        after the whole body went through, and nothing is transcribed. VmHWM is reset first
        (clear_refs 5) so the peak during this request is what is measured."""
        _, token, _ = S.new_user()
        pids = S.worker_pids()
        self.assertTrue(pids)
        reset = True
        for p in pids:
            try:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                reset = False
        before = {p: proc_kb(p, "VmRSS") for p in pids}
        n = 150 * 1000 * 1000
        fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little") + \
            (8000).to_bytes(4, "little") + (1).to_bytes(2, "little") + (8).to_bytes(2, "little")
        wav_head = b"RIFF" + (n + 36).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little") + fmt + \
            b"data" + n.to_bytes(4, "little")
        boundary = "big" + secrets.token_hex(8)
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
                f'Content-Type: audio/wav\r\n\r\n').encode() + wav_head
        tail = f"\r\n--{boundary}--\r\n".encode()
        files = S.audio_files()
        before_fp = fingerprint()
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=300)
        try:
            conn.putrequest("POST", f"{API}/sessions")
            conn.putheader("Authorization", f"Bearer {token}")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(len(head) + n + len(tail)))
            conn.endheaders()
            conn.send(head)
            chunk = b"\x80" * (1 << 20)
            sent = 0
            while sent < n:
                conn.send(chunk[:min(len(chunk), n - sent)])
                sent += min(len(chunk), n - sent)
            conn.send(tail)
            resp = conn.getresponse()
            r = stack.Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], resp.read())
        finally:
            conn.close()
        self.assertProblem(r, 413)
        key = "VmHWM" if reset else "VmRSS"
        growth = {p: proc_kb(p, key) - before[p] for p in pids if os.path.exists(f"/proc/{p}")}
        self.assertTrue(growth, "the API workers went away")
        self.assertLess(max(growth.values()), 8 * 1024, f"{key} growth in kB per worker: {growth}")
        self.assertUnchanged(before_fp, files)


# --- issue 9: the job queue's lanes, dedup and quota; fixed error texts -----------------------

def long_tone(name, seconds=75):
    """A tone longer than the short lane's 60 s bound, as `name` (.wav/.flac/.webm) in TMPDIR."""
    wav = os.path.join(TMPDIR, f"tone{seconds}.wav")
    if not os.path.exists(wav):
        run("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", wav, "synth", str(seconds), "sine", "440", "vol", "0.3")
    out = os.path.join(TMPDIR, name)
    if name.endswith(".flac"):
        run("flac", "-s", "-f", "-o", out, wav)
    elif name.endswith(".webm"):
        run("ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", "libopus", "-b:a", "24k", out)
    with open(out, "rb") as f:
        return bytearray(f.read())


def flac_claiming(data, samples):
    """The FLAC with its STREAMINFO's total_samples set to `samples` (and no MD5)."""
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0, "STREAMINFO first"
    x = int.from_bytes(data[18:26], "big")
    data[18:26] = ((x & ~((1 << 36) - 1)) | samples).to_bytes(8, "big")
    data[26:42] = bytes(16)
    return bytes(data)


def webm_claiming(data, ms):
    """The WebM with its Segment Info Duration (element 0x4489, an 8-byte float) set to ms."""
    i = data.find(b"\x44\x89\x88")
    assert i > 0, "no 8-byte Duration element"
    data[i + 3:i + 11] = struct.pack(">d", float(ms))
    return bytes(data)


class ZyIssue9(Base):
    def test_40_concurrent_reanalyze_start_exactly_one_analysis(self):
        """Item 7: one pending job per session (a partial unique index). Every request answers
        202 with the session (the pending analysis runs the current code: API.md's 202 holds)."""
        _, token, _ = S.new_user()
        s = done_session(token)
        url = f"{API}/sessions/{s['id']}/reanalyze"
        gate = threading.Barrier(40)
        out = [None] * 40

        def go(i):
            gate.wait()
            out[i] = S.post(url, token=token)
        threads = [threading.Thread(target=go, args=(i,)) for i in range(40)]
        # The decoders paused: the first analysis stays pending while the 40 are answered (a
        # short clip's analysis is quicker than 40 requests on 2 api workers).
        decoders = S.job_worker_pids()[1:]
        for pid in decoders:
            os.kill(pid, signal.SIGSTOP)
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for pid in decoders:
                os.kill(pid, signal.SIGCONT)
        for r in out:
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json()["id"], s["id"])
        self.assertEqual(S.sql(f"SELECT count(*) FROM jobs WHERE session_id='{s['id']}' AND kind='analyze'"),
                         [["1"]])
        self.assertEqual(wait_final(s["id"], token)["status"], "done")
        # Once done, a reanalyze queues a new one.
        self.assertEqual(S.post(url, token=token).status, 202)
        self.assertEqual(S.sql(f"SELECT count(*) FROM jobs WHERE session_id='{s['id']}' AND kind='analyze'"),
                         [["2"]])
        wait_final(s["id"], token)

    def test_header_claiming_short_for_long_audio_ends_on_the_long_lane(self):
        """Item 7: the upload's lane comes from the header, which can lie: a WebM whose Duration
        says 1 s but which decodes 75 s is put back by the short lane's decoder, at the 60 s
        bound, into the long lane (the attempt not counted), and finished there. A FLAC whose
        STREAMINFO says 1 s cannot make the short lane work long: libsndfile decodes only the
        samples STREAMINFO declares."""
        _, token, _ = S.new_user()
        webm = webm_claiming(long_tone("tone75.webm"), 1000)
        flac = flac_claiming(long_tone("tone75.flac"), 16000)
        ids = {}
        for name, data, ctype in (("webm", webm, "audio/webm"), ("flac", flac, "audio/flac")):
            r = upload(token, data, filename=f"x.{name}", ctype=ctype)
            ids[name] = accepted(self, r)["id"]
            self.assertEqual(S.sql(f"SELECT lane FROM jobs WHERE session_id='{ids[name]}'"), [["short"]], name)
        done = wait_all_final(ids.values(), token)
        webm_s, flac_s = done[ids["webm"]], done[ids["flac"]]
        self.assertEqual(webm_s["status"], "done", webm_s)
        self.assertAlmostEqual(webm_s["duration_s"], 75, delta=1)
        # The move is not counted: the job's budget grew by one (attempts is its fencing token).
        self.assertEqual(S.sql(f"SELECT lane, status, max_attempts - attempts FROM jobs "
                               f"WHERE session_id='{ids['webm']}'"), [["long", "done", "4"]])
        self.assertIn(f"decodes longer than 60 s: moved to the long lane", S.log_text("log/worker.log"))
        self.assertEqual(flac_s["status"], "done", flac_s)
        self.assertLessEqual(flac_s["duration_s"], 1.5, flac_s)
        self.assertEqual(S.sql(f"SELECT lane, status FROM jobs WHERE session_id='{ids['flac']}'"),
                         [["short", "done"]])

    def test_job_quota_per_user_answers_429_with_retry_after(self):
        """Item 7: jobs.max_queued_per_user (50) pending jobs per user; beyond, an upload and a
        reanalyze answer 429 problem+json with Retry-After and store nothing. The pending jobs
        are made in SQL, due tomorrow, so that no worker takes them meanwhile."""
        user, token, _ = S.new_user()
        s = done_session(token)
        S.sql(f"""WITH s AS (INSERT INTO sessions (id, user_id, audio_path, audio_format, audio_mime, audio_bytes)
                             SELECT gen_random_uuid(), '{user['id']}', 'quota-' || g || '.wav', 'wav',
                                    'audio/wav', 44 FROM generate_series(1, 50) g RETURNING id)
                  INSERT INTO jobs (kind, session_id, user_id, lane, run_after)
                  SELECT 'transcribe', id, '{user['id']}', 'short', now() + interval '1 day' FROM s""")
        try:
            sessions_before = S.sql(f"SELECT count(*) FROM sessions WHERE user_id='{user['id']}'")
            files_before = S.audio_files()
            for what, send in (("upload", lambda: upload(token, fixture("short"))),
                               ("reanalyze", lambda: S.post(f"{API}/sessions/{s['id']}/reanalyze", token=token))):
                with self.subTest(what):
                    r = send()
                    self.assertProblem(r, 429)
                    self.assertRegex(r.header("retry-after") or "", r"^[1-9]\d*$")
            self.assertEqual(S.sql(f"SELECT count(*) FROM sessions WHERE user_id='{user['id']}'"), sessions_before)
            self.assertEqual(S.audio_files(), files_before)
            self.assertEqual(S.sql(f"SELECT count(*) FROM jobs WHERE session_id='{s['id']}'"), [["1"]])
            # Another user is not affected.
            _, other, _ = S.new_user()
            self.assertEqual(upload(other, fixture("short")).status, 202)
        finally:
            S.sql(f"DELETE FROM sessions WHERE user_id='{user['id']}' AND audio_path LIKE 'quota-%'")
        self.assertEqual(upload(token, fixture("short")).status, 202)

    def test_failure_text_is_fixed_per_class_and_the_detail_is_logged(self):
        """Item 22: a stored file the decoder library refuses (a FLAC cut after 8,000 bytes:
        libsndfile says "Error : unknown error in flac decoder.") fails its session with a fixed
        sentence in sessions.error, the job and the event; the library's message goes to the
        worker's log only. The file is put in place with its session and job in SQL: the upload
        route refuses such a file itself (415), and the worker must not depend on that."""
        user, token, _ = S.new_user()
        sid = str(uuid.uuid4())
        with open(os.path.join(S.dir, "audio", f"{sid}.flac"), "wb") as f:
            f.write(bytes(long_tone("tone75.flac"))[:8000])
        S.sql(f"""WITH s AS (INSERT INTO sessions (id, user_id, audio_path, audio_format, audio_mime, audio_bytes)
                             VALUES ('{sid}', '{user['id']}', '{sid}.flac', 'flac', 'audio/flac', 8000)
                             RETURNING id)
                  INSERT INTO jobs (kind, session_id, user_id, lane) SELECT 'transcribe', id, '{user['id']}', 'long'
                  FROM s""")
        done = wait_final(sid, token)
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done["error"], "the recording could not be decoded")
        self.assertEqual(S.sql(f"SELECT last_error FROM jobs WHERE session_id='{sid}'"),
                         [["the recording could not be decoded"]])
        self.assertIn("flac decoder", S.log_text("log/worker.log"))

class ZzLogs(Base):
    def test_no_5xx(self):
        # (/readyz answers 503 while stack.sh waits for the worker's first heartbeat: not a request's fault)
        access = S.log_text("nginx/logs/access.log")
        self.assertEqual([line for line in access.splitlines()
                          if re.search(r'" 5\d\d ', line) and '"GET /readyz"' not in line], [])
        self.assertNotIn("internal error", S.log_text("log/api.log"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
