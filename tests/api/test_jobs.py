"""The job queue and `rostrum worker` under faults, through the real stack (nginx + api + worker
+ PostgreSQL), RELIABILITY F07-F11 and F15: a decoder process killed or paused past its lease,
a healthy job whose lease is short, PostgreSQL restarted under running jobs, SIGTERM, --drain
(and a decoder dying during it, and jobs whose worker died on their last attempt), a job whose
audio vanished, a full disk at upload, a decoder hung past its job's time budget, fork() failing;
and each session transcribed with its own language's model (the stack's model root has en-test,
another name for en-us: the engine string tells which one a decoder loaded).

The worker is a master (pid in <dir>/run/worker.pid) with one process per decoder
(`pgrep -P <master>`); a job's locked_by is host:<decoder pid>:<index>. One stack with its own
PostgreSQL cluster (restartable) and a 5 s lease serves every test; each test leaves it as it
found it: nothing of its own queued or running. A test that needs the stack's worker
(ensure_daemon_worker) or needs it away (stop_daemon_worker) says so first, so that the tests
that run their own worker follow each other without restarting it in between. Nothing sleeps
to synchronise: every wait polls a condition with a deadline.
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack  # noqa: E402

PG_SH = os.path.join(SOURCE, "scripts/pg.sh")
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.abspath(os.path.join(SOURCE, "..", "shared", "data", "speech")))
# Long enough to act on "mid-job" (recognition takes a few seconds), short enough for the short
# lane, which both decoders serve (so the other one can take over a paused job).
MID = os.path.join(SPEECH, "read", "harvard_sentences.wav")  # 18 s
# Recognition runs in groups of up to 25 s of audio with no checkpoint inside one: a job whose
# first group takes longer than the lease to recognise.
LONGER = os.path.join(SPEECH, "read", "ljspeech_lj001_0001-0005.wav")  # 34 s
SHORT = [os.path.join(SPEECH, "read", f) for f in (
    "ps_goforward.wav", "librivox_ss_0880.wav", "timit_ldc93s1.wav", "ljspeech_lj001_0008.wav")]
BIG = os.path.join(SPEECH, "long", "gwbush_radio_address_2008-11-01.wav")  # 4 MB
LEASE_S = 5
JOB_S = 120  # generous: 2 cores shared with other work
WORKER_LOG = "log/worker.log"


def proc_state(pid):
    """The state letter from /proc (R, S, T, Z...); None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def running(pid):
    return pid is not None and proc_state(pid) not in (None, "Z", "X")


def gone(pid):
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        return True


def children(pid):
    r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return sorted(int(p) for p in r.stdout.split())


class JobFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.S = Stack("jobs", embedded_pg=True, languages=("en-test",),
                      ROSTRUM_WORKER_LEASE_S=LEASE_S, ROSTRUM_WORKER_THREADS=2)

    @classmethod
    def tearDownClass(cls):
        cls.S.stop()

    def setUp(self):
        self.sessions = []
        self.extra = []    # Popen of workers started by hand
        self.stopped = []  # pids we SIGSTOPped
        self.mounts = []
        self.orphans = []  # pids that must not outlive the test
        self.user, self.token, _ = self.S.new_user()
        self.log_mark = len(self.S.log_text(WORKER_LOG))
        self.addCleanup(self.restore)

    # --- leaving the stack as we found it ------------------------------------------------------
    def restore(self):
        for pid in self.orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        for p in self.extra:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)
        for mnt in self.mounts:
            if subprocess.run(["umount", mnt], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        if subprocess.run([PG_SH, "status", self.path("pg")]).returncode != 0:
            subprocess.run([PG_SH, "start", self.path("pg")], check=True)
        # A job of this test that did not finish must not disturb the next test.
        if self.sessions:
            ids = ",".join(f"'{s}'" for s in self.sessions)
            self.S.sql(f"DELETE FROM sessions WHERE id IN ({ids}) "
                       "AND status NOT IN ('done', 'failed')")

    def ensure_daemon_worker(self):
        pid = self.master_pid()
        if pid and not running(pid):
            self.S.wait_until(lambda: gone(pid), timeout=30, what=f"dead worker {pid} reaped")
        self.S.script("up")
        self.S.wait_until(lambda: running(self.master_pid()), timeout=10, what="daemon worker")

    def build_fork_shim(self):
        """tests/harness/fail_fork.c built for LD_PRELOAD (once per stack)."""
        shim = self.path("fail_fork.so")
        if not os.path.exists(shim):
            subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", shim,
                            os.path.join(SOURCE, "tests/harness/fail_fork.c"), "-ldl"],
                           check=True)
        return shim

    # --- helpers ---------------------------------------------------------------------------------
    def path(self, *rel):
        return os.path.join(self.S.dir, *rel)

    def master_pid(self):
        try:
            with open(self.path("run/worker.pid")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop_daemon_worker(self):
        """The stack's worker stopped (SIGTERM: it releases what it holds); no-op if it is."""
        pid = self.master_pid()
        if pid and not gone(pid):
            os.kill(pid, signal.SIGTERM)
            self.S.wait_until(lambda: gone(pid), timeout=60, what=f"worker {pid} to stop")

    def own_worker(self, *args, **env):
        """A worker that is our child (its exit code can be read), logging to the stack's log."""
        e = dict(self.S.env)
        e.update({k: str(v) for k, v in env.items()})
        with open(self.path(WORKER_LOG), "ab") as out:
            p = subprocess.Popen([BIN, "worker", *args], env=e, stdout=out, stderr=out,
                                 stdin=subprocess.DEVNULL)
        self.extra.append(p)
        return p

    def upload(self, path, query=""):
        with open(path, "rb") as f:
            data = f.read()
        r = self.S.request("POST", "/api/v1/sessions" + query, body=data,
                           content_type="audio/wav", token=self.token, timeout=60)
        self.assertEqual(r.status, 202, r)
        sid = r.json()["id"]
        self.sessions.append(sid)
        return sid

    def session(self, sid):
        """(status, progress, error) of a session."""
        rows = self.S.sql(f"SELECT status, progress, coalesce(error, '') FROM sessions "
                          f"WHERE id = '{sid}'")
        return (rows[0][0], float(rows[0][1]), rows[0][2]) if rows else (None, 0.0, "")

    def job(self, sid):
        """(id, status, attempts, locked_by, last_error) of the session's one job."""
        rows = self.S.sql("SELECT id, status, attempts, coalesce(locked_by, ''), "
                          f"coalesce(last_error, '') FROM jobs WHERE session_id = '{sid}'")
        self.assertEqual(len(rows), 1, rows)
        i, st, att, by, err = rows[0]
        return int(i), st, int(att), by, err

    def holder(self, sid):
        """The pid of the decoder process holding the session's job."""
        by = self.job(sid)[3]
        self.assertRegex(by, r"^.+:\d+:\d+$")
        return int(by.rsplit(":", 2)[1])

    def wait_mid_job(self, sid, timeout=JOB_S):
        """Until recognition is under way (past the decode stage) but not finished."""
        def mid():
            st, p, _ = self.session(sid)
            self.assertNotIn(st, ("done", "failed"), f"session {sid} finished before the fault")
            return st == "processing" and p >= 0.15
        self.S.wait_until(mid, timeout=timeout, what=f"session {sid} mid-job")

    def new_log(self):
        return self.S.log_text(WORKER_LOG)[self.log_mark:]

    def deaths_holding(self, job_id):
        """How many decoders died holding the job (the master logs each)."""
        return len(re.findall(rf"died on signal \d+, holding job {job_id} ", self.new_log()))

    def wait_final(self, sid, timeout=JOB_S, want="done"):
        self.S.wait_until(lambda: self.session(sid)[0] in ("done", "failed"), timeout=timeout,
                          what=f"session {sid} to finish\n{self.new_log()[-2000:]}")
        self.assertEqual(self.session(sid)[0], want, self.new_log()[-2000:])

    def analyses(self, sid):
        return self.S.sql(f"SELECT wpm, overall FROM analyses WHERE session_id = '{sid}'")

    def words(self, sid):
        return self.S.sql(f"SELECT idx, word, start_s, end_s FROM words "
                          f"WHERE session_id = '{sid}' ORDER BY idx")

    def events(self, sid, after=0):
        return self.S.sql(f"SELECT seq, event, data->>'status', coalesce(data->>'error', '') "
                          f"FROM events WHERE data->>'id' = '{sid}' AND seq > {after} ORDER BY seq")

    def assert_one_result(self, sid):
        """Exactly one transcript and one analysis: word indexes 0..n-1 once each."""
        self.assertEqual(len(self.analyses(sid)), 1)
        words = self.words(sid)
        self.assertGreater(len(words), 0)
        self.assertEqual([int(w[0]) for w in words], list(range(len(words))))
        r = self.S.get(f"/api/v1/sessions/{sid}", token=self.token)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["status"], "done")
        self.assertEqual(len(body["transcript"]["words"]), len(words))
        self.assertIn("analysis", body)
        self.assertEqual([e[1] for e in self.events(sid)].count("session.done"), 1)

    # --- F07: kill -9 of the decoder ---------------------------------------------------------------
    def test_kill9_decoder_mid_job_runs_again_after_the_lease_exactly_once(self):
        S = self.S
        self.ensure_daemon_worker()
        master = self.master_pid()
        sid = self.upload(MID)
        self.wait_mid_job(sid)
        job_id = self.job(sid)[0]
        decoder = self.holder(sid)
        self.assertIn(decoder, children(master))
        os.kill(decoder, signal.SIGKILL)
        killed_at = time.monotonic()
        # The master logs who died, how, and the job it held; then replaces it.
        S.wait_until(lambda: re.search(rf"decoder \d \(pid {decoder}\) died on signal 9, "
                                       rf"holding job {job_id} ", self.new_log()),
                     timeout=10, what=f"the master to report decoder {decoder}'s death")
        S.wait_until(lambda: len(children(master)) == 2 and decoder not in children(master),
                     timeout=15, what="the dead decoder replaced")
        self.wait_final(sid)
        self.assertGreaterEqual(time.monotonic() - killed_at, LEASE_S - 1,
                                "run again before the lease expired")
        # Attempt 2, unless the engine crashed on a later attempt too (each death is logged).
        self.assertEqual(self.job(sid)[1:4], ("done", self.deaths_holding(job_id) + 1, ""),
                         self.new_log()[-3000:])
        self.assertRegex(self.new_log(), rf"job {job_id} \(transcribe, session {sid}, "
                                         r"attempt 2\) claimed")
        self.assert_one_result(sid)
        self.assertEqual(self.master_pid(), master)
        self.assertTrue(running(master))

    # --- F08: a decoder paused past its lease -------------------------------------------------------
    def test_paused_decoder_past_its_lease_cannot_overwrite_the_result(self):
        S = self.S
        self.ensure_daemon_worker()
        sid = self.upload(MID)
        self.wait_mid_job(sid)
        job_id = self.job(sid)[0]
        paused = self.holder(sid)
        os.kill(paused, signal.SIGSTOP)
        self.stopped.append(paused)
        S.wait_until(lambda: proc_state(paused) == "T", timeout=5, what="decoder stopped")
        # The other decoder takes the job over once the lease has expired, and finishes it.
        self.wait_final(sid)
        self.assertEqual(self.job(sid)[1:3], ("done", 2))
        self.assertNotEqual(self.holder_log_pid(job_id, 2), paused)
        before = (self.analyses(sid), self.words(sid),
                  S.sql(f"SELECT status, progress, coalesce(error, ''), transcript_text "
                        f"FROM sessions WHERE id = '{sid}'"))
        last_seq = int(self.events(sid)[-1][0])

        os.kill(paused, signal.SIGCONT)
        self.stopped.remove(paused)
        S.wait_until(lambda: re.search(rf"\[{paused}\].*job {job_id} interrupted", self.new_log()),
                     timeout=JOB_S, what=f"decoder {paused} to notice it lost job {job_id}")
        after = (self.analyses(sid), self.words(sid),
                 S.sql(f"SELECT status, progress, coalesce(error, ''), transcript_text "
                       f"FROM sessions WHERE id = '{sid}'"))
        self.assertEqual(after, before, "the fenced decoder changed the stored result")
        self.assertEqual(self.job(sid)[1:4], ("done", 2, ""))
        self.assertEqual(self.events(sid, last_seq), [], "the fenced decoder announced something")
        self.assert_one_result(sid)
        self.assertTrue(running(paused), "the fenced decoder must carry on, not die")

    def holder_log_pid(self, job_id, attempt):
        m = re.search(rf"\[(\d+)\].*job {job_id} \(transcribe, session [0-9a-f-]+, "
                      rf"attempt {attempt}\) claimed", self.new_log())
        self.assertIsNotNone(m, self.new_log()[-2000:])
        return int(m.group(1))

    # --- bug 1: the lease is kept by a timer, not by progress checkpoints ---------------------------
    def test_healthy_job_longer_than_its_lease_is_not_reclaimed(self):
        self.ensure_daemon_worker()
        sid = self.upload(LONGER)
        t0 = time.monotonic()
        self.wait_final(sid)
        took = time.monotonic() - t0
        _, st, attempts, _, _ = self.job(sid)
        self.assertGreater(took, LEASE_S, "the job was too short to test the lease")
        self.assertEqual((st, attempts), ("done", 1),
                         f"a healthy job was re-claimed:\n{self.new_log()[-2000:]}")
        self.assertNotIn("lease lost", self.new_log())
        self.assert_one_result(sid)

    # --- F11: PostgreSQL restarted ------------------------------------------------------------------
    def test_postgres_restart_while_jobs_run_loses_and_duplicates_nothing(self):
        S = self.S
        self.ensure_daemon_worker()
        master = self.master_pid()
        decoders = children(master)
        sids = [self.upload(MID)] + [self.upload(p) for p in SHORT[:3]]
        self.wait_mid_job(sids[0])
        pg = self.path("pg")
        subprocess.run([PG_SH, "stop", pg], check=True, capture_output=True)
        subprocess.run([PG_SH, "start", pg], check=True, capture_output=True)
        for sid in sids:
            self.wait_final(sid, timeout=JOB_S + 2 * LEASE_S)
        for sid in sids:
            self.assertEqual(self.job(sid)[1], "done", sid)
            self.assert_one_result(sid)
        self.assertEqual(self.master_pid(), master)
        self.assertEqual(children(master), decoders, "a decoder died when PostgreSQL restarted")
        self.assertNotRegex(self.new_log(), r"decoder \d+ \(pid \d+\) died")
        # It still takes new work.
        late = self.upload(SHORT[0])
        self.wait_final(late)

    # --- F09: SIGTERM -----------------------------------------------------------------------------
    def test_sigterm_mid_job_releases_it_to_queued_and_exits_0(self):
        S = self.S
        self.stop_daemon_worker()
        w = self.own_worker()
        with open(self.path("run/worker.pid"), "w") as f:
            f.write(f"{w.pid}\n")
        sid = self.upload(MID)
        self.wait_mid_job(sid)
        job_id, st, attempts, _, _ = self.job(sid)
        self.assertEqual((st, attempts), ("running", 1))
        w.send_signal(signal.SIGTERM)
        try:
            rc = w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail(f"worker still running 60 s after SIGTERM: {self.new_log()[-2000:]}")
        self.assertEqual(rc, 0, self.new_log()[-2000:])
        log = self.new_log()
        self.assertNotRegex(log, r"decoder \d+ \(pid \d+\) (died|exited)")
        self.assertIn("worker stopped", log)
        self.assertRegex(log, rf"job {job_id} interrupted: shutting down")
        # Released: the job queued with its attempt given back, and the session says so too.
        self.assertEqual(self.job(sid)[1:4], ("queued", 0, ""), "job not released")
        self.assertEqual(self.session(sid)[:2], ("queued", 0.0), "session left 'processing'")
        self.assertEqual(self.events(sid)[-1][1:3], ["session.progress", "queued"])
        # The next worker does it.
        self.ensure_daemon_worker()
        self.wait_final(sid)
        self.assertEqual(self.job(sid)[1:3], ("done", 1))
        self.assert_one_result(sid)

    # --- --drain ---------------------------------------------------------------------------------
    def test_drain_processes_the_queue_and_exits_0(self):
        self.stop_daemon_worker()
        sids = [self.upload(p) for p in SHORT[:3]]
        w = self.own_worker("--drain")
        rc = w.wait(timeout=JOB_S)
        self.assertEqual(rc, 0, self.new_log()[-2000:])
        self.assertIn("worker drained the queue", self.new_log())
        for sid in sids:
            self.assertEqual(self.session(sid)[0], "done")
            self.assertEqual(self.job(sid)[1:3], ("done", 1))
            self.assert_one_result(sid)

    def test_drain_exits_non_zero_when_a_decoder_dies_and_still_drains_the_rest(self):
        S = self.S
        self.stop_daemon_worker()
        victim = self.upload(MID)
        rest = [self.upload(p) for p in SHORT[:2]]
        w = self.own_worker("--drain", ROSTRUM_WORKER_THREADS=1)
        self.wait_mid_job(victim)
        job_id = self.job(victim)[0]
        decoder = self.holder(victim)
        os.kill(decoder, signal.SIGKILL)
        rc = w.wait(timeout=JOB_S)
        self.assertEqual(rc, 1, self.new_log()[-2000:])
        self.assertRegex(self.new_log(), rf"decoder 0 \(pid {decoder}\) died on signal 9, "
                                         rf"holding job {job_id} ")
        # The replacement decoder drained what was queued.
        for sid in rest:
            self.assertEqual(self.session(sid)[0], "done", self.new_log()[-2000:])
        # The killed job is not lost: once its lease has expired a run takes it (the replacement
        # decoder may have already; else the next cron run does).
        if self.session(victim)[0] != "done":
            self.S.wait_until(lambda: S.sql(f"SELECT locked_until < now() FROM jobs "
                                            f"WHERE session_id = '{victim}'") == [["t"]],
                              timeout=2 * LEASE_S, what="the killed job's lease to expire")
            again = self.own_worker("--drain", ROSTRUM_WORKER_THREADS=1)
            self.assertEqual(again.wait(timeout=JOB_S), 0, self.new_log()[-2000:])
        self.assertEqual(self.session(victim)[0], "done", self.new_log()[-2000:])
        # One attempt per decoder that died holding it (ours, and any crash of the engine's).
        self.assertEqual(self.job(victim)[1:3], ("done", self.deaths_holding(job_id) + 1),
                         self.new_log()[-3000:])
        self.assert_one_result(victim)

    # --- the session's language picks the model -------------------------------------------------
    def test_each_session_is_transcribed_with_its_languages_model(self):
        S = self.S
        self.stop_daemon_worker()
        other = self.upload(SHORT[0], "?language=en-test")
        usual = self.upload(SHORT[0])
        # Accepted, then its model went away: the job cannot succeed, so it fails at once.
        gone = self.upload(SHORT[0])
        S.sql(f"UPDATE sessions SET language = 'en-gone' WHERE id = '{gone}'")
        # One decoder process: both models in one cache, the default one loaded up front.
        w = self.own_worker("--drain", ROSTRUM_WORKER_THREADS=1)
        self.assertEqual(w.wait(timeout=JOB_S), 0, self.new_log()[-2000:])
        got = {}
        for sid in (other, usual):
            body = S.get(f"/api/v1/sessions/{sid}", token=self.token).json()
            self.assertEqual(body["status"], "done", body)
            got[sid] = (body["language"], body["transcript"]["engine"], body["transcript"]["text"])
        self.assertEqual(got[other][:2], ("en-test", "pocketsphinx-5prealpha en-test"))
        self.assertEqual(got[usual][:2], ("en-us", "pocketsphinx-5prealpha en-us"))
        self.assertEqual(got[other][2], got[usual][2])  # en-test is the en-us model
        self.assertTrue(got[usual][2])
        self.assertEqual(self.new_log().count("loaded the en-test model"), 1, self.new_log())
        _, st, attempts, _, last_error = self.job(gone)
        self.assertEqual((st, attempts, last_error),
                         ("dead", 1, "the session's language is not installed"))
        self.assertEqual(self.session(gone)[0], "failed")

    # --- F10: a job whose audio file vanished -----------------------------------------------------
    def test_drain_fails_a_missing_audio_file_at_once_readably_without_its_path(self):
        S = self.S
        self.stop_daemon_worker()
        sid = self.upload(SHORT[0])
        audio = self.path("audio", f"{sid}.wav")
        self.assertTrue(os.path.exists(audio))
        os.unlink(audio)
        w = self.own_worker("--drain")
        self.assertEqual(w.wait(timeout=JOB_S), 0, self.new_log()[-2000:])
        # Permanent: dead after one attempt, not retried max_attempts times with backoff.
        _, st, attempts, by, last_error = self.job(sid)
        self.assertEqual((st, attempts, by), ("dead", 1, ""))
        r = S.get(f"/api/v1/sessions/{sid}", token=self.token)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["status"], "failed")
        self.assertEqual(body["error"], "the audio file is missing")
        self.assertEqual(last_error, body["error"])
        failed = [e for e in self.events(sid) if e[1] == "session.failed"]
        self.assertEqual(len(failed), 1, failed)
        self.assertEqual(failed[0][3], body["error"])
        everything = r.body.decode() + "".join(map(str, self.events(sid)))
        self.assertNotIn(S.dir, everything)
        self.assertNotIn("/audio/", everything)
        # The path is in the log, for the operator.
        self.assertIn(audio, self.new_log())

    # --- --drain reaps what no worker can claim any more ---------------------------------------
    def test_drain_reaps_jobs_whose_worker_died_on_their_last_attempt(self):
        S = self.S
        self.stop_daemon_worker()
        sid = self.upload(SHORT[0])
        # As a worker leaves it when it dies on the last attempt: running, lease expired.
        S.sql("UPDATE jobs SET status = 'running', attempts = max_attempts, "
              "locked_by = 'gone:1:0', locked_until = now() - interval '1 second' "
              f"WHERE session_id = '{sid}'")
        w = self.own_worker("--drain")
        self.assertEqual(w.wait(timeout=JOB_S), 0, self.new_log()[-2000:])
        _, st, attempts, by, last_error = self.job(sid)
        self.assertEqual((st, by), ("dead", ""), self.new_log()[-2000:])
        self.assertEqual(last_error, f"the worker died on each of {attempts} attempts")
        self.assertEqual(self.session(sid)[::2], ("failed", last_error))
        self.assertEqual([e[1:3] for e in self.events(sid)][-1], ["session.failed", "failed"])
        self.assertIn("1 job(s) dead after their workers died", self.new_log())

    # --- a decoder hung inside a library: killed past its job's budget ---------------------------
    def test_hung_decoder_is_killed_past_its_budget_and_the_job_retried(self):
        S = self.S
        self.stop_daemon_worker()
        # A lease far longer than the budget: only the budget can free the job.
        w = self.own_worker(ROSTRUM_WORKER_THREADS=1, ROSTRUM_WORKER_LEASE_S=300,
                            ROSTRUM_WORKER_JOB_BUDGET_BASE_S=8,
                            ROSTRUM_WORKER_JOB_BUDGET_FACTOR=0)
        sid = self.upload(MID)
        self.wait_mid_job(sid)
        job_id = self.job(sid)[0]
        hung = self.holder(sid)
        os.kill(hung, signal.SIGSTOP)  # as hung as a decoder can be
        self.stopped.append(hung)
        S.wait_until(lambda: re.search(rf"decoder 0 \(pid {hung}\) is past the budget of job "
                                       rf"{job_id} \(8 s\): killing it", self.new_log()),
                     timeout=30, what=f"the master to kill hung decoder {hung}")
        S.wait_until(lambda: gone(hung) or proc_state(hung) == "Z", timeout=10,
                     what="the hung decoder dead")
        S.wait_until(lambda: "time budget" in self.job(sid)[4], timeout=10,
                     what="the job failed with its reason")
        self.assertRegex(self.new_log(), rf"job {job_id} attempt 1 will be retried: the job ran "
                                         r"past its time budget")
        # Ours stops (releasing the retry if it took it); the stack's worker does the job.
        w.send_signal(signal.SIGTERM)
        self.assertEqual(w.wait(timeout=60), 0, self.new_log()[-2000:])
        self.ensure_daemon_worker()
        self.wait_final(sid)
        self.assertEqual(self.job(sid)[1:3], ("done", 2))
        self.assert_one_result(sid)

    # --- fork() failing (out of processes) ----------------------------------------------------
    def test_failed_forks_signal_nobody_are_retried_with_backoff_and_sigterm_stops(self):
        """fork() fails 3 times (an LD_PRELOAD shim: root ignores RLIMIT_NPROC). The worker runs
        in a PID namespace of its own next to a sentinel process, so that a kill(-1, SIGTERM)
        (a failed fork stored as a child) would reach the sentinel, not the host."""
        S = self.S
        if os.geteuid() != 0:
            self.skipTest("a PID namespace needs root")
        self.stop_daemon_worker()
        shim = self.build_fork_shim()
        e = dict(S.env, ROSTRUM_WORKER_THREADS="1", ROSTRUM_TEST_FAIL_FORKS="3", SHIM=shim,
                 ROSTRUM_BIN=BIN)
        # The namespace's init is this shell (kill(-1) spares it); it reports, once the worker
        # has exited, whether the sentinel still lives (S: sleeping; Z or gone: signalled).
        script = ('sleep 600 & s=$!; env LD_PRELOAD="$SHIM" "$ROSTRUM_BIN" worker; rc=$?; '
                  'st=$(cut -d" " -f3 /proc/$s/stat 2>/dev/null); '
                  'echo "worker-exit $rc sentinel ${st:-gone}"; kill $s 2>/dev/null; exit 0')
        with open(self.path(WORKER_LOG), "ab") as log:
            ns = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                                   "sh", "-c", script], env=e, stdout=subprocess.PIPE,
                                  stderr=log, stdin=subprocess.DEVNULL, text=True,
                                  start_new_session=True)  # kill(0) stays inside too
        self.extra.append(ns)

        def worker_pid():
            for init in children(ns.pid):
                for pid in children(init):
                    try:
                        with open(f"/proc/{pid}/comm") as f:
                            if f.read().strip() == "rostrum":
                                return pid
                    except FileNotFoundError:
                        pass
            return None
        S.wait_until(lambda: worker_pid() is not None, timeout=10, what="the worker started")
        master = worker_pid()
        init = children(ns.pid)[0]
        guard = [p for p in children(init) if p != master][0]  # the sentinel, seen from outside
        failed = re.compile(r"decoder 0: fork failed: Resource temporarily unavailable; "
                            r"next attempt in (\d+) ms")
        try:
            S.wait_until(lambda: len(failed.findall(self.new_log())) >= 3
                         and re.search(r"decoder 0 \(pid \d+\) started", self.new_log()),
                         timeout=30, what="three failed forks, then the decoder")
        except AssertionError:
            pass  # asserted below, once SIGTERM has shown what it reaches
        os.kill(master, signal.SIGTERM)
        try:
            out, _ = ns.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("the worker did not exit on SIGTERM; the sentinel "
                      f"{'lives' if running(guard) else 'was signalled'}\n"
                      f"{self.new_log()[-2000:]}")
        self.assertRegex(out, r"sentinel [SR]\b", "the sentinel was signalled")
        self.assertIn("worker-exit 0 ", out, self.new_log()[-2000:])
        self.assertEqual([int(d) for d in failed.findall(self.new_log())], [100, 200, 400])
        self.assertRegex(self.new_log(), r"decoder 0 \(pid \d+\) started")
        self.assertNotIn("refusing to send signal", self.new_log())

    def test_decoder_whose_master_died_before_prctl_exits(self):
        """The master is killed between a decoder's fork() and its PR_SET_PDEATHSIG (the shim
        holds the child until then): the decoder must not run on as an orphan."""
        S = self.S
        self.stop_daemon_worker()
        shim = self.build_fork_shim()
        w = self.own_worker(ROSTRUM_WORKER_THREADS=1, LD_PRELOAD=shim,
                            ROSTRUM_TEST_FORK_OUTLIVE="1")
        S.wait_until(lambda: len(children(w.pid)) == 1, timeout=30, what="the decoder forked")
        decoder = children(w.pid)[0]
        self.orphans.append(decoder)
        w.kill()
        w.wait(10)
        S.wait_until(lambda: not running(decoder), timeout=30,
                     what=f"decoder {decoder} to exit after its master died")
        self.orphans.remove(decoder)  # gone: its pid may be reused, never kill it again
        self.assertIn("the master died before it could be followed; exiting", self.new_log())
        self.assertNotRegex(self.new_log(), rf"decoder 0 \(pid {decoder}\) started")

    # --- F15: a full disk at upload ---------------------------------------------------------------
    def test_disk_full_upload_is_507_and_leaves_nothing(self):
        S = self.S
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        # The worker holds nothing under audio/ while it is mounted over.
        self.stop_daemon_worker()
        audio = self.path("audio")
        st = os.stat(audio)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0750", "tmpfs", audio],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        self.mounts.append(audio)
        os.chown(audio, st.st_uid, st.st_gid)
        self.assertGreater(os.path.getsize(BIG), 1024 * 1024)
        before = S.fingerprint()

        with open(BIG, "rb") as f:
            r = S.request("POST", "/api/v1/sessions", body=f.read(), content_type="audio/wav",
                          token=self.token, timeout=60)
        self.assertEqual(r.status, 507, r)
        self.assertTrue(r.header("content-type").startswith("application/problem+json"), r)
        self.assertEqual(r.json()["status"], 507)
        self.assertNotIn(S.dir, r.body.decode())
        self.assertEqual(S.fingerprint(), before, "a row was stored")
        leftovers = [os.path.join(d, f) for d, _, fs in os.walk(audio) for f in fs]
        self.assertEqual(leftovers, [], "a partial file was left")

        # The space is free again: a small upload fits, then goes (before the unmount).
        sid = self.upload(SHORT[0])
        self.assertTrue(os.path.exists(os.path.join(audio, f"{sid}.wav")))
        self.assertEqual(S.request("DELETE", f"/api/v1/sessions/{sid}", token=self.token).status,
                         204)


if __name__ == "__main__":
    unittest.main(verbosity=2)
