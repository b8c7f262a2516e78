"""OpenAI-compatible transcription (API.md "Compatibility"): POST /v1/audio/transcriptions at the
site root, through nginx, with a real worker: every response_format, word and segment
granularity, ISO 639-1 language mapping, errors in OpenAI's shape (nginx's own included) with
nothing stored, the bound on waiting requests (openai.max_waiting), a failed job (bad audio: 400
and the session removed; another failure: 500 naming the kept session), the timeout (504 naming
the kept session) and OpenAI's official npm client calling it unchanged.

One stack: openai.max_waiting=1 so that the bound is reachable with two requests; the timeout
case restarts `rostrum api` with openai.max_wait_s=1 while the worker is stopped (SIGSTOP), and
puts both back.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from stack import Stack  # noqa: E402

S = None
ROUTE = "/v1/audio/transcriptions"
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA", os.path.join(stack.SOURCE, "..", "shared", "data", "speech"))
READ = os.path.join(SPEECH, "read")
CLIENTS = os.path.join(stack.SOURCE, "tests", "clients")
TMPDIR = None
CLIP = None  # "go forward ten meters", 1.5 s of silence, "has never been surpassed"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WAIT_S = 60


def read_pcm(path):
    with wave.open(path, "rb") as w:
        return w.readframes(w.getnframes())


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def write_wav(path, pcm):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm)
    return path


def setUpModule():
    global S, TMPDIR, CLIP
    TMPDIR = tempfile.mkdtemp(prefix="rostrum-openai-", dir=stack.TMP)
    go = read_pcm(os.path.join(READ, "ps_goforward.wav"))
    never = read_pcm(os.path.join(READ, "ljspeech_lj001_0008.wav"))
    CLIP = write_wav(os.path.join(TMPDIR, "two phrases.wav"), go + b"\0\0" * 24000 + never)
    S = Stack("openai", ROSTRUM_OPENAI_MAX_WAIT_S=WAIT_S, ROSTRUM_OPENAI_MAX_WAITING=1)


def tearDownModule():
    if S:
        S.stop()


def multipart(parts):
    boundary = "rostrum" + uuid.uuid4().hex
    out = []
    for name, value, filename in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        ctype = "Content-Type: application/octet-stream\r\n" if filename is not None else ""
        out.append(f"--{boundary}\r\nContent-Disposition: {disp}\r\n{ctype}\r\n".encode()
                   + (value.encode() if isinstance(value, str) else value) + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def transcribe(token, data=None, filename="two phrases.wav", fields=(("model", "whisper-1"),),
               path=ROUTE, timeout=WAIT_S + 20):
    if data is None:
        data = read_file(CLIP)
    body, ctype = multipart([("file", data, filename)] + [(k, v, None) for k, v in fields])
    return S.request("POST", path, body=body, token=token, content_type=ctype, timeout=timeout)


def sessions_of(user):
    return S.sql(f"SELECT id, kind, title, language, status FROM sessions WHERE user_id='{user['id']}' ORDER BY created_at")


class StoppedWorker:
    """`rostrum worker` (its master and decoders) stopped with SIGSTOP while idle, so that jobs
    stay queued; SIGCONT on exit."""

    def __enter__(self):
        S.quiesce()
        self.pids = S.job_worker_pids()
        for p in self.pids:
            os.kill(p, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for p in self.pids:
            os.kill(p, signal.SIGCONT)


class InThread:
    """A request run in a thread: .result() joins it."""

    def __init__(self, fn):
        self.out = {}
        self.t = threading.Thread(target=lambda: self.out.setdefault("r", fn()), daemon=True)
        self.t.start()

    def result(self, timeout=WAIT_S + 30):
        self.t.join(timeout)
        assert not self.t.is_alive(), "the request did not end"
        return self.out["r"]


class OpenAiCase(unittest.TestCase):
    def assertOpenAiError(self, r, status, param=None, code=None):
        """OpenAI's error shape, exactly: {"error": {message, type, param, code}}."""
        self.assertEqual(r.status, status, r)
        self.assertIn("application/json", r.header("content-type"), r)
        body = r.json()
        self.assertEqual(set(body), {"error"}, body)
        e = body["error"]
        self.assertEqual(set(e), {"message", "type", "param", "code"}, e)
        self.assertIsInstance(e["message"], str)
        self.assertTrue(e["message"])
        self.assertEqual(e["type"], "server_error" if status >= 500 else "invalid_request_error", e)
        self.assertEqual(e["param"], param, e)
        if code is not None:
            self.assertEqual(e["code"], code, e)
        return e


class Formats(OpenAiCase):
    @classmethod
    def setUpClass(cls):
        cls.user, cls.token, _ = S.new_user()

    def test_json_is_the_default_and_the_session_is_kept(self):
        r = transcribe(self.token)
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/json", r.header("content-type"))
        body = r.json()
        self.assertEqual(set(body), {"text"}, body)
        self.assertIn("forward", body["text"])
        sid = r.header("x-rostrum-session-id")
        self.assertRegex(sid, UUID_RE)
        self.assertTrue(r.header("x-rostrum-engine").startswith("pocketsphinx"), r.headers)
        self.assertTrue(r.header("x-request-id"), r.headers)
        s = S.get(f"/api/v1/sessions/{sid}", token=self.token).json()
        self.assertEqual((s["kind"], s["title"], s["status"], s["language"]),
                         ("practice", "two phrases.wav", "done", "en-us"), s)
        self.assertEqual(s["transcript"]["text"], body["text"])

    def test_text_srt_and_vtt(self):
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "text")))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/plain"), r.headers)
        self.assertIn("forward", r.body.decode())
        self.assertTrue(r.body.endswith(b"\n"))
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "srt")))
        self.assertEqual(r.status, 200, r)
        srt = r.body.decode()
        # The 1.5 s pause cuts a second cue.
        self.assertRegex(srt, r"^1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n.+\n\n2\n")
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "vtt")))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/vtt"), r.headers)
        vtt = r.body.decode()
        self.assertTrue(vtt.startswith("WEBVTT\n\n"), vtt)
        self.assertEqual(len(re.findall(r"\d\d:\d\d:\d\d\.\d{3} --> ", vtt)), 2, vtt)

    def test_verbose_json_segments_and_words(self):
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "verbose_json")))
        self.assertEqual(r.status, 200, r)
        v = r.json()
        self.assertEqual(v["task"], "transcribe")
        self.assertEqual(v["language"], "english")
        self.assertAlmostEqual(v["duration"], 2.786 + 1.5 + 1.783, delta=0.05)
        self.assertNotIn("words", v)  # only with timestamp_granularities[]=word
        segs = v["segments"]
        self.assertEqual(len(segs), 2, segs)
        for i, sg in enumerate(segs):
            self.assertEqual(set(sg), {"id", "seek", "start", "end", "text", "tokens", "temperature",
                                       "avg_logprob", "compression_ratio", "no_speech_prob"}, sg)
            self.assertEqual(sg["id"], i)
            self.assertLess(sg["start"], sg["end"])
            self.assertLessEqual(sg["avg_logprob"], 0)
        self.assertGreater(segs[1]["start"], segs[0]["end"] + 1.0)  # the pause
        self.assertEqual(" ".join(s["text"] for s in segs), v["text"])
        # Words only: no segments (OpenAI's rule); both: both.
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "verbose_json"),
                                           ("timestamp_granularities[]", "word")))
        v = r.json()
        self.assertNotIn("segments", v)
        self.assertEqual(" ".join(w["word"] for w in v["words"]), v["text"])
        for w in v["words"]:
            self.assertEqual(set(w), {"word", "start", "end"})
            self.assertLessEqual(w["start"], w["end"])
        r = transcribe(self.token, fields=(("model", "whisper-1"), ("response_format", "verbose_json"),
                                           ("timestamp_granularities[]", "word"),
                                           ("timestamp_granularities[]", "segment")))
        v = r.json()
        self.assertEqual(len(v["segments"]), 2)
        self.assertTrue(v["words"])

    def test_language_prompt_and_temperature(self):
        """ISO 639-1 'en' and the model id 'EN-US' both mean en-us; prompt and temperature are
        accepted (and ignored: the recogniser takes no hints)."""
        for lang in ("en", "EN-US"):
            r = transcribe(self.token, data=read_file(os.path.join(READ, "ljspeech_lj001_0008.wav")),
                           fields=(("model", "any-model"), ("language", lang), ("prompt", "surpassed"),
                                   ("temperature", "0.2")))
            self.assertEqual(r.status, 200, r)
            sid = r.header("x-rostrum-session-id")
            self.assertEqual(S.sql(f"SELECT language FROM sessions WHERE id='{sid}'"), [["en-us"]])


class Refusals(OpenAiCase):
    """Each refusal in OpenAI's shape, and nothing stored (no row, no audio file)."""

    @classmethod
    def setUpClass(cls):
        cls.user, cls.token, _ = S.new_user()

    def refused(self, r, status, param=None, code=None):
        e = self.assertOpenAiError(r, status, param, code)
        self.assertEqual(sessions_of(self.user), [])
        self.assertEqual(os.listdir(os.path.join(S.dir, "audio", "tmp")), [])
        return e

    def test_bad_fields(self):
        m = ("model", "whisper-1")
        self.refused(transcribe(self.token, fields=()), 400, "model", "missing_required_parameter")
        self.refused(transcribe(self.token, fields=(m, ("language", "xx"))), 400, "language",
                     "unsupported_language")
        self.refused(transcribe(self.token, fields=(m, ("language", "../en-us"))), 400, "language")
        self.refused(transcribe(self.token, fields=(m, ("response_format", "xml"))), 400, "response_format")
        self.refused(transcribe(self.token, fields=(m, ("temperature", "2"))), 400, "temperature")
        self.refused(transcribe(self.token, fields=(m, ("temperature", "hot"))), 400, "temperature")
        self.refused(transcribe(self.token, fields=(m, ("timestamp_granularities[]", "word"))), 400,
                     "timestamp_granularities[]")  # needs verbose_json
        self.refused(transcribe(self.token, fields=(m, ("response_format", "verbose_json"),
                                                    ("timestamp_granularities[]", "char"))),
                     400, "timestamp_granularities[]")
        self.refused(transcribe(self.token, fields=(m, ("stream", "true"))), 400, "stream")
        self.refused(transcribe(self.token, fields=(m, ("colour", "blue"))), 400, "colour")
        self.refused(transcribe(self.token, fields=(m, m)), 400, "model")  # given twice
        self.refused(transcribe(self.token, fields=(m, ("prompt", "x" * 2000))), 400, "prompt")

    def test_bad_audio(self):
        m = (("model", "whisper-1"),)
        self.refused(transcribe(self.token, data=b"this is not audio at all" * 40, filename="a.wav", fields=m),
                     415, None, "invalid_file_format")
        e = self.refused(transcribe(self.token, data=b"", fields=m), 400, "file")
        self.assertIn("empty", e["message"])
        # A WAV header with no samples: found by the probe.
        silent = os.path.join(TMPDIR, "empty.wav")
        write_wav(silent, b"")
        self.refused(transcribe(self.token, data=read_file(silent), fields=m), 400, "file")
        body, ctype = multipart([("model", "whisper-1", None)])
        self.refused(S.request("POST", ROUTE, body=body, token=self.token, content_type=ctype), 400, "file")
        self.refused(S.request("POST", ROUTE, body=b"{}", token=self.token, content_type="application/json"),
                     415, None, "invalid_file_format")

    def test_tokens(self):
        r = transcribe(None)
        self.refused(r, 401, None, "invalid_api_key")
        self.assertEqual(r.header("www-authenticate"), "Bearer", r.headers)
        self.refused(transcribe("not-a-token"), 401, None, "invalid_api_key")

    def test_nginx_refusals_and_other_paths(self):
        self.refused(S.get(ROUTE, token=self.token), 405, None, "method_not_allowed")
        for path in ("/v1/models", "/v1/audio/translations", "/v1/"):
            r = S.request("POST", path, body=b"x", token=self.token, content_type="text/plain")
            self.refused(r, 404, None, "not_found")
        # Over nginx's body limit (upload.max_bytes + 1 MiB), refused before the body is read.
        r = S.request("POST", ROUTE, body=b"", token=self.token, content_type="multipart/form-data; boundary=x",
                      headers={"Content-Length": str(300 * 1024 * 1024)}, timeout=10)
        self.refused(r, 413, "file", "file_too_large")

    def test_unknown_query_parameter_is_422_in_openai_shape(self):
        r = S.request("POST", ROUTE + "?debug=1", body=b"x", token=self.token, content_type="audio/wav")
        self.refused(r, 422, "debug")


class Waiting(OpenAiCase):
    """The request waits for the worker: its bound, a failed job, the timeout."""

    def test_waiters_are_bounded(self):
        user, token, _ = S.new_user()
        with StoppedWorker():
            first = InThread(lambda: transcribe(token))
            S.wait_until(lambda: len(sessions_of(user)) == 1, 30, "the first request to wait")
            r = transcribe(token, fields=(("model", "whisper-1"), ("response_format", "text")))
            e = self.assertOpenAiError(r, 429, None, "rate_limit_exceeded")
            self.assertIn("at once", e["message"])
            self.assertEqual(r.header("retry-after"), "5", r.headers)
            self.assertEqual(len(sessions_of(user)), 1)  # the refused one stored nothing
            # The rest of the API still answers while one worker waits.
            self.assertEqual(S.get("/api/v1/sessions", token=token).status, 200)
        r = first.result()
        self.assertEqual(r.status, 200, r)
        self.assertIn("forward", r.json()["text"])

    def test_failed_job_bad_audio_is_400_and_removed_other_failures_500_kept(self):
        user, token, _ = S.new_user()
        cases = (("the recording could not be decoded", 400, "invalid_file"),
                 ("the recording holds no audio", 400, "invalid_file"),
                 ("processing stopped on an internal error", 500, "transcription_failed"))
        with StoppedWorker():
            for error, status, code in cases:
                req = InThread(lambda: transcribe(token))
                S.wait_until(lambda: S.sql(f"SELECT count(*) FROM sessions WHERE user_id='{user['id']}' "
                                           "AND status='queued'") == [["1"]], 30, "the request to wait")
                (sid, path), = S.sql(f"SELECT id, audio_path FROM sessions WHERE user_id='{user['id']}' "
                                     "AND status='queued'")
                # What the worker's record_job_failure does, by hand (the worker is stopped).
                S.sql(f"""BEGIN; UPDATE sessions SET status='failed', error='{error}' WHERE id='{sid}';
                          DELETE FROM jobs WHERE session_id='{sid}';
                          SELECT pg_notify('rostrum_events', json_build_object('seq', 0, 'user_id', '{user['id']}',
                              'event', 'session.failed', 'data', json_build_object('id', '{sid}'))::text);
                          COMMIT;""")
                r = req.result()
                e = self.assertOpenAiError(r, status, "file" if status == 400 else None, code)
                self.assertIn(error, e["message"])
                audio = os.path.join(S.dir, "audio", path)
                if status == 400:
                    self.assertEqual(S.sql(f"SELECT count(*) FROM sessions WHERE id='{sid}'"), [["0"]])
                    self.assertFalse(os.path.exists(audio))
                else:
                    self.assertIn(sid, e["message"])
                    self.assertEqual(r.header("x-rostrum-session-id"), sid)
                    self.assertEqual(r.header("x-should-retry"), "false")
                    self.assertTrue(os.path.exists(audio))
                    S.sql(f"DELETE FROM sessions WHERE id='{sid}'")

    def test_timeout_answers_504_naming_the_kept_session(self):
        user, token, _ = S.new_user()
        restart_api(ROSTRUM_OPENAI_MAX_WAIT_S="1")
        try:
            with StoppedWorker():
                t0 = time.monotonic()
                r = transcribe(token)
                elapsed = time.monotonic() - t0
                e = self.assertOpenAiError(r, 504, None, "timeout")
                sid = r.header("x-rostrum-session-id")
                self.assertIn(sid, e["message"])
                self.assertEqual(r.header("x-should-retry"), "false")
                self.assertLess(elapsed, 5)
                self.assertEqual(sessions_of(user), [[sid, "practice", "two phrases.wav", "en-us", "queued"]])
        finally:
            restart_api(ROSTRUM_OPENAI_MAX_WAIT_S=str(WAIT_S))
        # Nothing lost: the job runs once the worker is back.
        S.wait_until(lambda: sessions_of(user)[0][4] == "done", 60, "the kept session to be transcribed")


def restart_api(**env):
    pid = S.api_master_pid()
    os.kill(pid, signal.SIGTERM)
    S.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 30, "rostrum api to stop")
    S.env.update(env)
    S.script("up")


class RealClient(OpenAiCase):
    """OpenAI's own npm package (tests/clients, installed by scripts/deps.sh) with its base URL
    pointed at Rostrum: no change to the client."""

    @classmethod
    def setUpClass(cls):
        cls.user, cls.token, _ = S.new_user()
        if not os.path.exists(os.path.join(CLIENTS, "node_modules", "openai")):
            raise AssertionError("tests/clients/node_modules/openai is missing: run scripts/deps.sh "
                                 "(npm ci --ignore-scripts in tests/clients)")

    def client(self, token, **options):
        r = subprocess.run(["node", os.path.join(CLIENTS, "openai_transcribe.mjs"), f"{S.base}/v1", token,
                            CLIP, json.dumps(options)], capture_output=True, text=True, timeout=WAIT_S + 30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_openai_npm_client(self):
        out = self.client(self.token)
        self.assertTrue(out["ok"], out)
        self.assertIn("forward", out["result"]["text"])
        out = self.client(self.token, response_format="verbose_json", timestamp_granularities=["word", "segment"],
                          language="en")
        self.assertTrue(out["ok"], out)
        self.assertEqual(len(out["result"]["segments"]), 2, out)
        self.assertTrue(out["result"]["words"], out)
        out = self.client(self.token, response_format="srt")
        self.assertTrue(out["ok"], out)
        self.assertIn(" --> ", out["result"])
        # Errors as the library reads them: status, code, param, request id.
        out = self.client("not-a-token")
        self.assertEqual((out["ok"], out["status"], out["code"]), (False, 401, "invalid_api_key"), out)
        out = self.client(self.token, language="xx")
        self.assertEqual((out["status"], out["code"], out["param"]), (400, "unsupported_language", "language"), out)
        self.assertTrue(out["request_id"], out)


if __name__ == "__main__":
    unittest.main()
