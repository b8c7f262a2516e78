"""The worker's sweep of orphan audio (issue 9 item 8): files in audio/tmp left by a process
that died mid-write (an api worker SIGKILLed mid-upload, a crashed live daemon's stream), and
stored files in audio/ that no session row names, go once older than worker.sweep_age_s; a
file a session names stays whatever its age.

Its own stack (the SIGKILL makes nginx answer 502, which the other files' no-5xx checks refuse),
with worker.sweep_age_s=2 and worker.sweep_interval_s=1. Nothing sleeps to synchronise: every
wait polls with a deadline.
"""
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack, service_dir  # noqa: E402

S = None
API = "/api/v1"
TONE = os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav")


def setUpModule():
    global S
    S = Stack("sweep", ROSTRUM_WORKER_SWEEP_AGE_S=2, ROSTRUM_WORKER_SWEEP_INTERVAL_S=1)


def tearDownModule():
    S.stop()


def wav_of_silence(nbytes):
    """A valid 16 kHz mono 16-bit WAV of nbytes of silence."""
    header = (b"RIFF" + struct.pack("<I", 36 + nbytes) + b"WAVEfmt " +
              struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", nbytes))
    return header + bytes(nbytes)


def tmp_parts():
    return [n for n in os.listdir(os.path.join(S.dir, "audio", "tmp")) if n.startswith("upload-")]


class Sweep(unittest.TestCase):
    def test_orphans_are_removed_and_referenced_files_stay(self):
        _, token, _ = S.new_user()
        with open(TONE, "rb") as f:
            r = S.request("POST", f"{API}/sessions", body=f.read(), content_type="audio/wav", token=token)
        self.assertEqual(r.status, 202, r)
        kept = S.sql(f"SELECT audio_path FROM sessions WHERE id='{r.json()['id']}'")[0][0]
        audio = os.path.join(S.dir, "audio")
        orphans = [os.path.join(audio, f"{uuid.uuid4()}.wav"),                       # row never committed
                   os.path.join(audio, "tmp", f"upload-{uuid.uuid4()}.part"),        # an upload's leftover
                   os.path.join(audio, "tmp", f"live-{uuid.uuid4()}.wav.part")]      # a live stream's
        for p in orphans:
            with open(p, "wb") as f:
                f.write(b"RIFF" + secrets.token_bytes(64))
        S.wait_until(lambda: not any(os.path.exists(p) for p in orphans), timeout=30,
                     what="the sweep to remove the orphan files")
        self.assertIn(kept, S.audio_files())
        # Still there after further passes, although older than the sweep's age by now.
        t0 = time.monotonic()
        S.wait_until(lambda: "sweep removed" in S.log_text("log/worker.log") and time.monotonic() - t0 > 3,
                     timeout=30, what="more sweep passes")
        self.assertIn(kept, S.audio_files())
        self.assertEqual(S.get(f"{API}/sessions/{r.json()['id']}/audio", token=token).status, 200)

    def test_sigkill_of_an_api_worker_mid_upload_leaves_a_part_file_the_sweep_removes(self):
        _, token, _ = S.new_user()
        body = wav_of_silence(100 << 20)
        part = None
        for attempt in range(5):
            workers = S.worker_pids()
            before = set(tmp_parts())
            result = {}
            t = threading.Thread(target=lambda: result.update(r=self.try_upload(body, token)))
            t.start()
            deadline = time.monotonic() + 60
            seen = []
            while not seen and time.monotonic() < deadline and t.is_alive():
                seen = [n for n in tmp_parts() if n not in before]
            if seen:
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
            t.join(120)
            if seen and os.path.exists(os.path.join(S.dir, "audio", "tmp", seen[0])):
                part = seen[0]
                break
        self.assertIsNotNone(part, "never caught an api worker mid-upload")
        self.assertNotEqual(getattr(result.get("r"), "status", 502), 202, result)
        # The master starts new workers; the part file is swept once older than 2 s.
        S.wait_until(lambda: part not in tmp_parts(), timeout=30, what=f"the sweep to remove {part}")
        S.wait_until(lambda: len(S.worker_pids()) == 2, timeout=30, what="the api pool to recover")
        _, token2, _ = S.new_user()
        self.assertEqual(S.get(f"{API}/sessions", token=token2).status, 200)

    def test_worker_drain_sweeps_once_before_it_exits(self):
        """`rostrum worker --drain` (cron's mode) runs one full pass: here on a data directory of
        its own, so that the stack's daemon worker cannot be the one that removed the file."""
        # The drain shares the stack's database: with the earlier cases' jobs done, its decoder
        # finds the queue empty (not jobs whose audio is in another data directory).
        S.quiesce()
        data = service_dir("rostrum-drain-", "audio", "audio/tmp")
        try:
            part = os.path.join(data, "audio", "tmp", f"upload-{uuid.uuid4()}.part")
            # Made just after a second boundary, so that once older than the sweep's age (2 s)
            # its ctime is only 2 whole seconds behind: a sweep comparing whole seconds kept it
            # (the cause of this case's failures), one comparing nanoseconds removes it.
            S.wait_until(lambda: time.time() % 1 < 0.2, timeout=5, what="a second boundary")
            with open(part, "wb") as f:
                f.write(b"partial")
            # Older than worker.sweep_age_s (2 s) by its ctime, which only time can age.
            S.wait_until(lambda: time.time() - os.stat(part).st_ctime > 2.1, timeout=10,
                         what="the file to be older than the sweep's age")
            # The drain's one pass is the one at its start: no second pass a second later that
            # could hide a first one that kept the file.
            env = dict(S.env, ROSTRUM_DATA_DIR=data, ROSTRUM_WORKER_THREADS="1",
                       ROSTRUM_WORKER_SWEEP_INTERVAL_S="86400")
            r = subprocess.run([BIN, "worker", "--drain"], env=env, capture_output=True, text=True,
                               timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertFalse(os.path.exists(part), "the drain run exited without sweeping: " + r.stderr[-1500:])
            self.assertIn("sweep removed 1 leftover file(s) from audio/tmp", r.stderr)
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def try_upload(self, body, token):
        try:
            return S.request("POST", f"{API}/sessions", body=body, content_type="audio/wav", token=token,
                             timeout=120)
        except OSError as e:
            return e


if __name__ == "__main__":
    unittest.main(verbosity=2)
