"""Bad uploads to POST /api/v1/sessions (RELIABILITY.md B31-B59): every refused one answers the
expected status as application/problem+json (nginx's own 413 included) and stores NOTHING — the
database fingerprint is unchanged, no new file appears in <data>/audio/, and <data>/audio/tmp/ is
empty afterwards. The hostile-but-valid ones (odd filenames, polyglots, lying headers, odd
formats) are accepted, stored under the server's UUID only, and their jobs end without retries.

This file's stack runs with upload.max_bytes = 5,000,000 (nginx's limit is that + 1 MiB) so that
both 413s can be shown with small bodies, and upload.max_seconds = 600 so that a FLAC whose header
lies about its length is cut short quickly. The API worker's memory during a 150 MB upload is
measured in test_sessions.py, at the default limit.
"""
import base64
import gzip
import http.client
import io
import json
import os
import re
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import wave
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
MAX_BYTES = 5_000_000
NGINX_MAX = MAX_BYTES + 1024 * 1024      # scripts/stack.sh: client_max_body_size = max_bytes + 1 MiB
MULTIPART_SLACK = 64 * 1024              # the app allows this much multipart framing on top
MAX_SECONDS = 600
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA", os.path.join(stack.SOURCE, "..", "shared", "data", "speech"))
READ = os.path.join(SPEECH, "read")
TMPDIR = None
TOKEN = None
PCM = b""        # 1.78 s of real speech, 16 kHz mono s16le ("has never been surpassed")
CLIP = b""       # the same as a WAV file
FINAL = ("done", "failed")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def setUpModule():
    global S, TMPDIR, TOKEN, PCM, CLIP
    src = os.path.join(READ, "ljspeech_lj001_0008.wav")
    if not os.path.exists(src):
        raise unittest.SkipTest(f"speech data not found at {READ} (set ROSTRUM_SPEECH_DATA)")
    with wave.open(src, "rb") as w:
        PCM = w.readframes(w.getnframes())
    with open(src, "rb") as f:
        CLIP = f.read()
    TMPDIR = tempfile.mkdtemp(prefix="rostrum-badup-fx-")
    S = Stack("uploads_bad", ROSTRUM_UPLOAD_MAX_BYTES=MAX_BYTES, ROSTRUM_UPLOAD_MAX_SECONDS=MAX_SECONDS)
    _, TOKEN, _ = S.new_user()


def tearDownModule():
    if S:
        S.stop()
    if TMPDIR:
        shutil.rmtree(TMPDIR, ignore_errors=True)


# --- byte writers ------------------------------------------------------------------------------

def wav(samples=b"", rate=16000, channels=1, bits=16, fmt_tag=1, block_align=None, byte_rate=None,
        data_size=None, riff_size=None, extra_chunks=b""):
    """A RIFF/WAVE file with every header field under control."""
    ba = channels * bits // 8 if block_align is None else block_align
    br = (rate * ba) & 0xFFFFFFFF if byte_rate is None else byte_rate
    fmt = struct.pack("<HHIIHH", fmt_tag, channels & 0xFFFF, rate & 0xFFFFFFFF, br, ba & 0xFFFF, bits)
    ds = len(samples) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks + b"data" + struct.pack("<I", ds) + samples
    return b"RIFF" + struct.pack("<I", (len(body) if riff_size is None else riff_size) & 0xFFFFFFFF) + body


def riff_chunk(cid, payload):
    return cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


_CRC8 = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = ((_c << 1) ^ 0x07) & 0xFF if _c & 0x80 else (_c << 1) & 0xFF
    _CRC8.append(_c)
_CRC16 = []
for _i in range(256):
    _c = _i << 8
    for _ in range(8):
        _c = ((_c << 1) ^ 0x8005) & 0xFFFF if _c & 0x8000 else (_c << 1) & 0xFFFF
    _CRC16.append(_c)


def _crc8(data):
    c = 0
    for b in data:
        c = _CRC8[c ^ b]
    return c


def _crc16(data):
    c = 0
    for b in data:
        c = ((c << 8) & 0xFFFF) ^ _CRC16[(c >> 8) ^ b]
    return c


def _utf8_number(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x800:
        return bytes([0xC0 | n >> 6, 0x80 | n & 0x3F])
    if n < 0x10000:
        return bytes([0xE0 | n >> 12, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])
    return bytes([0xF0 | n >> 18, 0x80 | n >> 12 & 0x3F, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])


def flac_silence(seconds, rate=16000, declared_samples=None):
    """A valid mono 16-bit FLAC of digital silence, written frame by frame: one CONSTANT subframe
    per 4096 samples, about 13 bytes each, so 10 h at 16 kHz is ~1.9 MB (the "silence bomb" of
    RELIABILITY.md §a; `flac -t` accepts it). declared_samples overrides STREAMINFO's total
    (0 = unknown: only decoding can tell the length)."""
    block = 4096
    total = int(seconds * rate)
    nframes = -(-total // block)
    declared = total if declared_samples is None else declared_samples
    streaminfo = struct.pack(">HH", block, block) + b"\0" * 6 + \
        ((rate << 44) | (0 << 41) | (15 << 36) | declared).to_bytes(8, "big") + b"\0" * 16
    out = [b"fLaC", bytes([0x80, 0, 0, len(streaminfo)]), streaminfo]
    rate_code = {8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10}[rate]
    for i in range(nframes):
        n = min(block, total - i * block)
        code, tail = (12, b"") if n == 4096 else (7, struct.pack(">H", n - 1))
        head = bytes([0xFF, 0xF8, code << 4 | rate_code, 0x08]) + _utf8_number(i) + tail  # mono, 16 bit
        frame = head + bytes([_crc8(head)]) + b"\x00\x00\x00"  # CONSTANT subframe, value 0
        out.append(frame + struct.pack(">H", _crc16(frame)))
    return b"".join(out)


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3v2(frames, size=None):
    body = b"".join(fid + syncsafe(len(data)) + b"\0\0" + data for fid, data in frames)
    return b"ID3\x04\x00\x00" + syncsafe(len(body) if size is None else size) + body


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def gzip_bomb(mib):
    """gzip of `mib` MiB of zeros (~1 KiB per MiB; ~4 ms per MiB to make)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = b"\0" * (1 << 20)
    return b"".join(co.compress(zero) for _ in range(mib)) + co.flush()


def tool(*cmd):
    """Runs an encoder into TMPDIR; returns the output file's bytes (the last argument)."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr[-1000:]}")
    with open(cmd[-1], "rb") as f:
        return f.read()


def clip_path():
    p = os.path.join(TMPDIR, "clip.wav")
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(CLIP)
    return p


# --- HTTP helpers ------------------------------------------------------------------------------

def part(name, data, filename=None, ctype=None, extra=""):
    disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"Content-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "") + extra
    return head.encode() if isinstance(head, str) else head, data if isinstance(data, bytes) else data.encode()


def file_part(data, filename="clip.wav", ctype="audio/wav"):
    return part("file", data, filename, ctype)


def multipart(parts, boundary=None, close=True, eol=b"\r\n"):
    """parts: [(header block bytes ending in CRLF or empty, body bytes)]."""
    boundary = boundary or "bad" + secrets.token_hex(10)
    b = boundary.encode()
    out = []
    for head, data in parts:
        out.append(b"--" + b + eol + head.replace(b"\r\n", eol) + eol + data + eol)
    if close:
        out.append(b"--" + b + b"--" + eol)
    return b"".join(out), boundary


def post(body, content_type, token=None, query="", headers=None, timeout=60):
    return S.request("POST", f"{API}/sessions" + (f"?{query}" if query else ""), body=body,
                     content_type=content_type, token=TOKEN if token is None else token or None,
                     headers=headers, timeout=timeout)


def post_multipart(parts, token=None, **kw):
    body, boundary = multipart(parts, **kw)
    return post(body, f"multipart/form-data; boundary={boundary}", token=token)


def post_streamed(content_type, length, chunks, token=None, read_early=False):
    """POST with a given Content-Length, the body sent from an iterator of chunks. With
    read_early the response is read after the headers and the first chunk (nginx refuses an
    over-limit Content-Length before it reads the body)."""
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=120)
    try:
        conn.putrequest("POST", f"{API}/sessions")
        conn.putheader("Authorization", f"Bearer {token or TOKEN}")
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        try:
            for c in chunks:
                conn.send(c)
                if read_early:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; read what it said
        resp = conn.getresponse()
        return stack.Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], resp.read())
    finally:
        conn.close()


def wait_final(sid, timeout=120):
    last = {}

    def finished():
        r = S.get(f"{API}/sessions/{sid}", token=TOKEN)
        assert r.status == 200, r
        last["s"] = r.json()
        if last["s"]["status"] in FINAL:
            return True
        S.ensure_job_worker()
        return False

    S.wait_until(finished, timeout, what=f"session {sid} to finish (last: {last.get('s')})")
    return last["s"]


def fingerprint():
    """S.fingerprint() after the job queue drained."""
    S.quiesce()
    return S.fingerprint()


def tmp_files():
    return os.listdir(os.path.join(S.dir, "audio", "tmp"))


def data_files():
    """Every file under the data directory but nginx's own transient request buffers."""
    out = set()
    for root, _, files in os.walk(S.dir):
        rel = os.path.relpath(root, S.dir)
        if rel.startswith(os.path.join("nginx", "tmp")):
            continue
        out.update(os.path.join(rel, f) for f in files)
    return out


def api_saw(r):
    """Whether `rostrum api` logged the request (nginx's request id is the worker's req=)."""
    rid = r.json().get("request_id")
    return bool(rid) and f"req={rid}" in S.log_text("log/api.log")


class Base(ApiCase):
    def refused(self, send, statuses, max_seconds=None):
        """send() makes the request; asserts the problem and that nothing was stored."""
        before, files = fingerprint(), S.audio_files()
        t0 = time.monotonic()
        r = send()
        elapsed = time.monotonic() - t0
        self.assertLess(r.status, 500, r)
        body = self.assertProblem(r, statuses)
        if max_seconds is not None:
            self.assertLess(elapsed, max_seconds, f"took {elapsed:.1f} s")
        self.assertEqual(S.audio_files(), files, "a refused upload left a file in audio/")
        self.assertEqual(tmp_files(), [], "audio/tmp is not empty after a refused upload")
        self.assertEqual(fingerprint(), before, "the database changed after a refused upload")
        return r, body

    def accepted(self, r, fmt="wav"):
        """202: the session is queued and its file is <uuid>.<format> in audio/, nothing else."""
        self.assertEqual(r.status, 202, r)
        s = r.json()
        self.assertRegex(s["id"], UUID_RE)
        self.assertEqual(s["status"], "queued")
        self.assertEqual(r.header("location"), f"{API}/sessions/{s['id']}")
        self.assertEqual(s["audio_format"], fmt, s)
        self.assertIn(f"{s['id']}.{fmt}", S.audio_files())
        self.assertEqual(tmp_files(), [])
        return s

    def jobs_of(self, sid):
        return S.sql(f"SELECT kind, status, attempts FROM jobs WHERE session_id='{sid}' ORDER BY id")


# --- multipart framing (B31-B40) ------------------------------------------------------------------

class A_Framing(Base):
    def test_b31_multipart_without_boundary(self):
        body, _ = multipart([file_part(CLIP)])
        self.refused(lambda: post(body, "multipart/form-data"), 400)
        self.refused(lambda: post(body, "multipart/form-data; charset=utf-8"), 400)

    def test_b31_boundary_with_forbidden_characters(self):
        body, _ = multipart([file_part(CLIP)], boundary="a@b")
        self.refused(lambda: post(body, "multipart/form-data; boundary=a@b"), 400)
        self.refused(lambda: post(body, 'multipart/form-data; boundary=""'), 400)

    def test_b32_boundary_of_71_chars(self):
        b = "b" * 71
        body, _ = multipart([file_part(CLIP)], boundary=b)
        self.refused(lambda: post(body, f"multipart/form-data; boundary={b}"), 400)

    def test_b33_truncated_without_closing_delimiter(self):
        self.refused(lambda: post_multipart([file_part(CLIP)], close=False), 400)
        # Cut inside the file's bytes, and inside a part's headers.
        body, b = multipart([file_part(CLIP)])
        self.refused(lambda: post(body[:len(body) // 2], f"multipart/form-data; boundary={b}"), 400)
        self.refused(lambda: post(f"--{b}\r\nContent-Disposition: form-da".encode(),
                                  f"multipart/form-data; boundary={b}"), 400)

    def test_b33_body_without_any_delimiter(self):
        self.refused(lambda: post(CLIP, "multipart/form-data; boundary=nowhere"), 400)

    def test_b34_part_without_content_disposition(self):
        self.refused(lambda: post_multipart([(b"Content-Type: audio/wav\r\n", CLIP)]), 400)

    def test_b34_part_without_name(self):
        self.refused(lambda: post_multipart([(b'Content-Disposition: form-data; filename="a.wav"\r\n', CLIP)]), 400)
        self.refused(lambda: post_multipart([(b'Content-Disposition: form-data; name=""; filename="a.wav"\r\n', CLIP)]), 400)
        self.refused(lambda: post_multipart([(b'Content-Disposition: attachment; name="file"; filename="a.wav"\r\n', CLIP)]), 400)

    def test_b35_two_file_parts(self):
        self.refused(lambda: post_multipart([file_part(CLIP), file_part(CLIP, "b.wav")]), 400)
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", "x"), file_part(b"RIFF")]), 400)

    def test_b36_thousand_empty_parts(self):
        """A part-count bomb stops at the cap, in linear time."""
        b = "bomb" + secrets.token_hex(6)
        bare = (f"--{b}\r\n\r\n\r\n" * 1000 + f"--{b}--\r\n").encode()
        self.refused(lambda: post(bare, f"multipart/form-data; boundary={b}"), 400, max_seconds=5)
        named = "".join(f'--{b}\r\nContent-Disposition: form-data; name="title"\r\n\r\n\r\n' for _ in range(1000))
        self.refused(lambda: post((named + f"--{b}--\r\n").encode(), f"multipart/form-data; boundary={b}"),
                     400, max_seconds=5)
        files = "".join(f'--{b}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n\r\n' for i in range(1000))
        self.refused(lambda: post((files + f"--{b}--\r\n").encode(), f"multipart/form-data; boundary={b}"),
                     400, max_seconds=5)

    def test_b37_100_kib_header_line(self):
        long_line = b"X-Padding: " + b"a" * (100 * 1024) + b"\r\n"
        self.refused(lambda: post_multipart([(b'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n' +
                                              long_line, CLIP)]), 400)
        long_name = b'Content-Disposition: form-data; name="file"; filename="' + b"n" * (100 * 1024) + b'"\r\n'
        self.refused(lambda: post_multipart([(long_name, CLIP)]), 400)

    def test_b39_lf_only_line_endings(self):
        body, b = multipart([file_part(CLIP), part("title", "lf")], eol=b"\n")
        self.refused(lambda: post(body, f"multipart/form-data; boundary={b}"), 400)

    def test_b40_content_transfer_encoding_base64(self):
        self.refused(lambda: post_multipart([part("file", base64.b64encode(CLIP), "a.wav", "audio/wav",
                                                  extra="Content-Transfer-Encoding: base64\r\n")]), 400)


# --- what the bytes are (B41-B47, B51, B58) -----------------------------------------------------

class B_Content(Base):
    def test_b41_content_encoding_gzip(self):
        body, b = multipart([file_part(CLIP)])
        self.refused(lambda: post(gzip.compress(body), f"multipart/form-data; boundary={b}",
                                  headers={"Content-Encoding": "gzip"}), 415)
        # A gzip bomb (256 MiB of zeros in ~260 KB) as a raw body: refused before anything is inflated.
        bomb = gzip_bomb(256)
        self.assertLess(len(bomb), MAX_BYTES)
        self.refused(lambda: post(bomb, "audio/wav", headers={"Content-Encoding": "gzip"}), 415, max_seconds=10)
        self.refused(lambda: post(CLIP, "audio/wav", headers={"Content-Encoding": "br"}), 415)

    def test_b42_zip_archive_of_wavs(self):
        z = zip_of({"a.wav": CLIP, "b.wav": CLIP})
        self.refused(lambda: post_multipart([file_part(z, "recordings.zip", "application/zip")]), 415)
        self.refused(lambda: post_multipart([file_part(z, "a.wav", "audio/wav")]), 415)
        self.refused(lambda: post(z, "application/zip"), 415)
        self.refused(lambda: post(z, "audio/wav"), 415)

    def test_b43_zero_byte_file_part(self):
        self.refused(lambda: post_multipart([file_part(b"")]), (400, 422))

    def test_b43_raw_body_content_length_0(self):
        self.refused(lambda: post(b"", "audio/wav"), (400, 411))

    def test_b43_raw_body_without_content_length(self):
        def send():
            raw = (f"POST {API}/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                   f"Content-Type: audio/wav\r\nConnection: close\r\n\r\n").encode()
            data = S.raw(raw)
            head, _, body = data.partition(b"\r\n\r\n")
            status = int(head.split(b" ")[1])
            headers = [(k.strip().lower().decode(), v.strip().decode())
                       for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])]
            if any(k == "transfer-encoding" for k, _ in headers):
                body = dechunk(body)
            return stack.Response(status, headers, body)
        self.refused(send, (400, 411))

    def test_b44_text_file_named_wav(self):
        text = b"Not audio at all.\nJust a text file called x.wav.\n" * 20
        self.refused(lambda: post_multipart([file_part(text, "x.wav", "audio/wav")]), 415)
        self.refused(lambda: post(text, "audio/wav"), 415)
        self.refused(lambda: post(b"<html><script>alert(1)</script></html>", "audio/mpeg"), 415)

    def test_b45_wav_header_only(self):
        self.refused(lambda: post_multipart([file_part(wav(b""))]), 422)
        self.refused(lambda: post(wav(b""), "audio/wav"), 422)
        self.refused(lambda: post(wav(b"", data_size=32000), "audio/wav"), 422)  # claims 1 s, has none

    def test_b47_impossible_wav_headers(self):
        samples = PCM[:32000]
        for name, kw in (("channels=0", dict(channels=0, block_align=2)),
                         ("channels=65535", dict(channels=65535, block_align=2)),
                         ("rate=0", dict(rate=0)),
                         ("rate=4294967295", dict(rate=4294967295)),
                         ("bits=0", dict(bits=0, block_align=2)),
                         ("block_align=0", dict(block_align=0)),
                         ("fmt_tag=0x1234", dict(fmt_tag=0x1234))):
            with self.subTest(name):
                self.refused(lambda: post_multipart([file_part(wav(samples, **kw))]), (415, 422))

    def test_b51_mp3_with_id3v2_size_200mb(self):
        """The tag claims 200 MB in a small file: refused (415/422) or accepted; never a 200 MB read."""
        mp3 = tool("lame", "--quiet", clip_path(), os.path.join(TMPDIR, "b51.mp3"))
        data = id3v2([(b"TIT2", b"\x03title")], size=200 * 1000 * 1000) + mp3
        before, files = fingerprint(), S.audio_files()
        r = post_multipart([file_part(data, "x.mp3", "audio/mpeg")])
        self.assertLess(r.status, 500, r)
        if r.status == 202:
            s = self.accepted(r, "mp3")
            self.assertIn(wait_final(s["id"])["status"], FINAL)
            self.assertEqual(self.jobs_of(s["id"])[0][2], "1")
        else:
            self.assertProblem(r, (415, 422))
            self.assertEqual((S.audio_files(), tmp_files(), fingerprint()), (files, [], before))

    def test_b58_odd_byte_count_raw_l16(self):
        body = PCM[:16001]
        for ctype in ("audio/L16", "audio/L16; rate=16000; channels=1", "audio/pcm"):
            with self.subTest(ctype):
                self.refused(lambda: post(body, ctype), (400, 415, 422))

    def test_b50_ogg_with_corrupted_page_crc(self):
        ogg = bytearray(tool("oggenc", "-Q", clip_path(), "-o", os.path.join(TMPDIR, "b50.ogg")))
        ogg[22] ^= 0xFF  # first page's CRC
        before, files = fingerprint(), S.audio_files()
        r = post_multipart([file_part(bytes(ogg), "c.ogg", "audio/ogg")])
        self.assertLess(r.status, 500, r)
        if r.status == 202:
            s = self.accepted(r, "ogg")
            wait_final(s["id"])
            self.assertEqual(self.jobs_of(s["id"])[0][2], "1")
        else:
            self.assertProblem(r, (415, 422))
            self.assertEqual((S.audio_files(), tmp_files(), fingerprint()), (files, [], before))


def dechunk(body):
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        n = int(size_line.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out, rest = out + rest[:n], rest[n + 2:]
    return out


# --- sizes and lengths (B48, B49, B55) --------------------------------------------------------

class C_Limits(Base):
    def test_b48_flac_silence_bomb_413_from_header(self):
        bomb = flac_silence(10 * 3600)  # 10 h of 16 kHz silence
        self.assertLess(len(bomb), 2_600_000)
        self.refused(lambda: post_multipart([file_part(bomb, "bomb.flac", "audio/flac")]), 413, max_seconds=10)
        self.refused(lambda: post(bomb, "audio/flac"), 413, max_seconds=10)

    def test_b49_flac_whose_header_hides_its_length(self):
        """STREAMINFO total_samples = 0 (unknown): only decoding finds the 10 h. Refused at once, or
        accepted and the job fails too_long after decoding at most upload.max_seconds, attempts = 1."""
        lying = flac_silence(10 * 3600, declared_samples=0)
        before, files = fingerprint(), S.audio_files()
        r = post_multipart([file_part(lying, "lying.flac", "audio/flac")])
        self.assertLess(r.status, 500, r)
        if r.status != 202:
            self.assertProblem(r, (413, 422))
            self.assertEqual((S.audio_files(), tmp_files(), fingerprint()), (files, [], before))
            return
        s = self.accepted(r, "flac")
        done = wait_final(s["id"])
        self.assertEqual(done["status"], "failed", done)
        self.assertIn("too_long", done["error"] or "", done)
        self.assertEqual(self.jobs_of(s["id"]), [["transcribe", "dead", "1"]])

    def test_b55_over_nginx_limit_413_from_nginx(self):
        """Content-Length past client_max_body_size: nginx answers (problem+json) before reading
        the body; the API never sees the request."""
        n = NGINX_MAX + 400_000
        head = wav(b"", data_size=n - 44)

        def send():
            return post_streamed("audio/wav", n, iter([head + b"\0" * 65536]), read_early=True)
        r, _ = self.refused(send, 413)
        self.assertFalse(api_saw(r), "nginx passed an over-limit body to the API")

        def send_multipart():
            b = "big" + secrets.token_hex(6)
            return post_streamed(f"multipart/form-data; boundary={b}", 6_500_000,
                                 iter([f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'.encode()]),
                                 read_early=True)
        r, _ = self.refused(send_multipart, 413)
        self.assertFalse(api_saw(r))

    def test_b55_over_app_limit_413_from_api(self):
        """Between upload.max_bytes and nginx's limit the API refuses by itself: from
        Content-Length for raw bodies and oversized multipart bodies, and while streaming when
        the file part alone passes the limit."""
        raw_n = MAX_BYTES + 500_000
        raw = wav(b"\0" * (raw_n - 44))
        r, _ = self.refused(lambda: post(raw, "audio/wav"), 413)
        self.assertTrue(api_saw(r), "expected the API's own 413")
        r, _ = self.refused(lambda: post(wav(b"\0" * (MAX_BYTES + 1 - 44)), "audio/wav"), 413)
        self.assertTrue(api_saw(r))
        # Multipart past max_bytes + the framing allowance.
        r, _ = self.refused(lambda: post_multipart([file_part(raw)]), 413)
        self.assertTrue(api_saw(r))
        # The file part one byte over the limit inside a body the Content-Length check lets in.
        over = wav(b"\0" * (MAX_BYTES + 1 - 44))
        body, b = multipart([file_part(over)])
        self.assertLessEqual(len(body), MAX_BYTES + MULTIPART_SLACK)
        r, _ = self.refused(lambda: post(body, f"multipart/form-data; boundary={b}"), 413)
        self.assertTrue(api_saw(r))

    def test_b55_exactly_at_the_limit_accepted(self):
        """A file of exactly upload.max_bytes (156 s of 16 kHz silence) is accepted."""
        data = wav(b"\0" * (MAX_BYTES - 44))
        self.assertEqual(len(data), MAX_BYTES)
        s = self.accepted(post_multipart([file_part(data, "limit.wav")]))
        self.assertAlmostEqual(s["duration_s"], (MAX_BYTES - 44) / 32000, delta=0.01)
        self.assertIn(wait_final(s["id"])["status"], FINAL)


# --- fields, media types, auth ------------------------------------------------------------------

class D_Fields(Base):
    def test_unknown_form_field(self):
        self.refused(lambda: post_multipart([file_part(CLIP), part("owner", str(uuid.uuid4()))]), 400)
        self.refused(lambda: post_multipart([file_part(CLIP), part("user_id", str(uuid.uuid4()))]), 400)
        self.refused(lambda: post(CLIP, "audio/wav", query="status=done"), 422)

    def test_form_field_given_twice(self):
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", "a"), part("title", "b")]), 400)
        self.refused(lambda: post_multipart([part("kind", "memo"), file_part(CLIP), part("kind", "memo")]), 400)
        self.refused(lambda: post(CLIP, "audio/wav", query="title=a&title=b"), 400)

    def test_over_long_title(self):
        _, body = self.refused(lambda: post_multipart([file_part(CLIP), part("title", "t" * 201)]), 422)
        self.assertIn("title", [e.get("field") for e in body.get("errors", [])], body)
        self.refused(lambda: post(CLIP, "audio/wav", query="title=" + "t" * 201), 422)
        # Past the 1 KiB a text field may hold at all.
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", "t" * 5000)]), (400, 422))

    def test_field_not_utf8_or_with_nul(self):
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", b"\xc3\x28")]), 400)
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", b"a\x00b")]), 400)
        self.refused(lambda: post_multipart([file_part(CLIP), part("title", b"\xed\xa0\x80")]), 400)

    def test_kind_bogus(self):
        _, body = self.refused(lambda: post_multipart([file_part(CLIP), part("kind", "bogus")]), 422)
        self.assertIn("kind", [e.get("field") for e in body.get("errors", [])], body)
        self.refused(lambda: post(CLIP, "audio/wav", query="kind=PRACTICE"), 422)

    def test_patient_id_not_a_uuid(self):
        for v in ("not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "' OR 1=1 --"):
            with self.subTest(v):
                _, body = self.refused(lambda: post_multipart([file_part(CLIP), part("patient_id", v)]), 422)
                self.assertIn("patient_id", [e.get("field") for e in body.get("errors", [])], body)
        self.refused(lambda: post_multipart([file_part(CLIP), part("project_id", "x")]), 422)

    def test_language_not_installed(self):
        _, body = self.refused(lambda: post_multipart([file_part(CLIP), part("language", "fr")]), 422)
        self.assertIn("en-us", json.dumps(body))
        self.refused(lambda: post_multipart([file_part(CLIP), part("language", "../../etc")]), 422)

    def test_no_file_part(self):
        _, body = self.refused(lambda: post_multipart([part("title", "no file")]), 422)
        self.assertIn("file", [e.get("field") for e in body.get("errors", [])], body)
        self.refused(lambda: post_multipart([part("title", "x"), (b'Content-Disposition: form-data; name="File"; filename="a.wav"\r\n', CLIP)]), 400)

    def test_json_body(self):
        self.refused(lambda: post(json.dumps({"title": "x", "file": "UklGRg=="}), "application/json"), 415)
        self.refused(lambda: post(CLIP, "text/plain"), 415)
        self.refused(lambda: post(CLIP, "application/octet-stream"), 415)
        self.refused(lambda: post(b"title=x", "application/x-www-form-urlencoded"), 415)
        self.refused(lambda: post(CLIP, None), 415)

    def test_missing_or_bad_auth(self):
        body, b = multipart([file_part(CLIP)])
        ctype = f"multipart/form-data; boundary={b}"
        self.refused(lambda: post(body, ctype, token=False), 401)
        self.refused(lambda: post(body, ctype, token="not.a.jwt"), 401)
        self.refused(lambda: post(CLIP, "audio/wav", token=False), 401)
        self.refused(lambda: post(body, ctype, token=False, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)


# --- accepted despite appearances (B38, B46, B52-B54, B56, B57) -----------------------------------

class E_AcceptedHostile(Base):
    def test_b38_hostile_filenames_stored_under_uuid_only(self):
        tiny = wav(PCM[:16000])  # 0.5 s
        names = ["../../../etc/cron.d/x", "C:\\boot.ini", "a%00.wav", "..", "n" * 1000,
                 "<script>alert(1)</script>.wav", "\u202egnp.wav", "/tmp/rostrum-owned.wav", "a\\..\\..\\b.wav"]
        cron_before = os.path.exists("/etc/cron.d/x")
        for name in names:
            with self.subTest(filename=name[:40]):
                files_before = data_files()
                r = post_multipart([part("file", tiny, name.replace('"', "%22"), "audio/wav")])
                s = self.accepted(r)
                new = data_files() - files_before
                self.assertEqual(new, {os.path.join("audio", f"{s['id']}.wav")}, f"files made: {new}")
                got = S.get(f"{API}/sessions/{s['id']}", token=TOKEN).json()
                if len(name) > 3:
                    self.assertNotIn(name, json.dumps(got, ensure_ascii=False))  # never echoed raw
                audio = S.get(f"{API}/sessions/{s['id']}/audio", token=TOKEN)
                self.assertEqual(audio.body, tiny)
                disp = audio.header("content-disposition") or ""
                self.assertNotIn("..", disp)
                self.assertNotIn("<", disp)
                self.assertNotIn("\u202e", disp)
        self.assertEqual(os.path.exists("/etc/cron.d/x"), cron_before)
        self.assertFalse(os.path.exists("/tmp/rostrum-owned.wav"))
        self.assertFalse(os.path.exists(os.path.join(S.dir, "boot.ini")))
        S.quiesce()

    def test_b38_filename_star_and_quotes(self):
        tiny = wav(PCM[:16000])
        head = b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Fevil.wav\r\n"
        files_before = data_files()
        s = self.accepted(post_multipart([(head, tiny)]))
        self.assertEqual(data_files() - files_before, {os.path.join("audio", f"{s['id']}.wav")})
        S.quiesce()

    def test_b46_wav_data_size_ffffffff(self):
        data = wav(PCM[:32000], data_size=0xFFFFFFFF, riff_size=0xFFFFFFFF)
        r = post_multipart([file_part(data)])
        self.assertLess(r.status, 500, r)
        if r.status == 422:
            return self.assertProblem(r, 422)
        s = self.accepted(r)
        if s["duration_s"] is not None:
            self.assertAlmostEqual(s["duration_s"], 1.0, delta=0.05)
        done = wait_final(s["id"])
        self.assertEqual(done["status"], "done", done)
        self.assertAlmostEqual(done["duration_s"], 1.0, delta=0.05)
        self.assertAlmostEqual(done["analysis"]["duration_s"], 1.0, delta=0.05)

    def test_b52_polyglot_wav_served_as_audio(self):
        html = b"<html><body><script>alert(document.cookie)</script></body></html>\0"
        info = riff_chunk(b"LIST", b"INFO" + riff_chunk(b"INAM", html) + riff_chunk(b"ICMT", html))
        data = wav(PCM, extra_chunks=info)
        for send in (lambda: post_multipart([file_part(data, "page.html", "text/html")]),
                     lambda: post(data, "audio/wav")):
            s = self.accepted(send())
            r = S.get(f"{API}/sessions/{s['id']}/audio", token=TOKEN)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-type"), "audio/wav")
            self.assertIn("nosniff", r.header_all("x-content-type-options"))
            self.assertTrue((r.header("content-disposition") or "").startswith("attachment"), r.headers)
            self.assertEqual(r.body, data)
            self.assertEqual(wait_final(s["id"])["status"], "done")

    def test_b52_mp3_with_html_in_id3_served_as_audio(self):
        mp3 = tool("lame", "--quiet", clip_path(), os.path.join(TMPDIR, "b52.mp3"))
        data = id3v2([(b"TIT2", b"\x03<html><script>alert(1)</script></html>"),
                      (b"COMM", b"\x03eng\0<script>alert(2)</script>")]) + mp3
        s = self.accepted(post_multipart([file_part(data, "x.html", "text/html")]), "mp3")
        r = S.get(f"{API}/sessions/{s['id']}/audio", token=TOKEN)
        self.assertEqual((r.status, r.header("content-type")), (200, "audio/mpeg"), r)
        self.assertIn("nosniff", r.header_all("x-content-type-options"))
        self.assertTrue((r.header("content-disposition") or "").startswith("attachment"))
        self.assertEqual(wait_final(s["id"])["status"], "done")

    def test_b53_wav_with_appended_zip(self):
        z = zip_of({"evil.sh": b"#!/bin/sh\necho owned\n", "../escape.txt": b"x"})
        data = CLIP + z
        files_before = data_files()
        s = self.accepted(post_multipart([file_part(data, "a.wav")]))
        self.assertEqual(data_files() - files_before, {os.path.join("audio", f"{s['id']}.wav")})
        self.assertAlmostEqual(s["duration_s"], len(PCM) / 32000, delta=0.02)
        done = wait_final(s["id"])
        self.assertEqual(done["status"], "done", done)
        self.assertAlmostEqual(done["duration_s"], len(PCM) / 32000, delta=0.02)
        self.assertEqual(S.get(f"{API}/sessions/{s['id']}/audio", token=TOKEN).body, data)

    def test_b54_declared_flac_bytes_wav(self):
        for send in (lambda: post(CLIP, "audio/flac"),
                     lambda: post_multipart([file_part(CLIP, "a.flac", "audio/flac")]),
                     lambda: post(CLIP, "audio/mpeg")):
            r = send()
            if r.status == 415:  # a strict server may refuse the mismatch (B54)
                self.assertProblem(r, 415)
                continue
            s = self.accepted(r, "wav")
            dl = S.get(f"{API}/sessions/{s['id']}/audio", token=TOKEN)
            self.assertEqual(dl.header("content-type"), "audio/wav")
            self.assertEqual(wait_final(s["id"])["status"], "done")

    def test_b56_mulaw_8k_six_channels_96k_float(self):
        src = clip_path()
        cases = [
            ("mulaw_8k.wav", ["sox", src, "-r", "8000", "-e", "u-law"], True),
            ("six_channels.wav", ["sox", src, "-c", "6"], True),
            ("float_96k.wav", ["sox", src, "-r", "96000", "-b", "32", "-e", "floating-point"], False),
        ]
        ids = {}
        for name, cmd, must_accept in cases:
            data = tool(*cmd, os.path.join(TMPDIR, name))
            r = post_multipart([file_part(data, name)])
            with self.subTest(name):
                self.assertLess(r.status, 500, r)
                if must_accept or r.status == 202:
                    ids[self.accepted(r)["id"]] = name
                else:
                    self.assertProblem(r, 422)  # outside the supported rates, by policy
        for sid, name in ids.items():
            with self.subTest(result=name):
                done = wait_final(sid)
                self.assertEqual(done["status"], "done", done)
                self.assertAlmostEqual(done["duration_s"], len(PCM) / 32000, delta=0.05)
                self.assertTrue(done["transcript"]["words"], done)

    def test_b57_ten_ms_of_audio(self):
        r = post_multipart([file_part(wav(PCM[8000:8320]), "blip.wav")])
        self.assertLess(r.status, 500, r)
        if r.status == 422:
            return self.assertProblem(r, 422)
        s = self.accepted(r)
        done = wait_final(s["id"])
        self.assertIn(done["status"], FINAL)
        if done["status"] == "failed":
            self.assertTrue(done["error"])
        self.assertEqual(self.jobs_of(s["id"]), [["transcribe", "done" if done["status"] == "done" else "dead", "1"]])

    def test_b50_truncated_ogg(self):
        ogg = tool("oggenc", "-Q", clip_path(), "-o", os.path.join(TMPDIR, "b50t.ogg"))
        r = post_multipart([file_part(ogg[:len(ogg) // 2], "half.ogg", "audio/ogg")])
        self.assertLess(r.status, 500, r)
        if r.status != 202:
            return self.assertProblem(r, (415, 422))
        s = self.accepted(r, "ogg")
        done = wait_final(s["id"])
        self.assertIn(done["status"], FINAL)
        self.assertEqual(self.jobs_of(s["id"])[0][2], "1", "a broken file must not be retried")


class ZzLogs(Base):
    def test_no_5xx_and_tmp_empty(self):
        S.quiesce()
        access = S.log_text("nginx/logs/access.log")
        self.assertEqual([line for line in access.splitlines()
                          if re.search(r'" 5\d\d ', line) and '"GET /readyz"' not in line], [])
        self.assertNotIn("internal error", S.log_text("log/api.log"))
        self.assertEqual(tmp_files(), [])
        # Every file in audio/ belongs to a session row, and every row has its file.
        rows = {f"{i}.{fmt}" for i, fmt in S.sql("SELECT id, audio_format FROM sessions")}
        self.assertEqual(set(S.audio_files()), rows)


if __name__ == "__main__":
    unittest.main(verbosity=2)
