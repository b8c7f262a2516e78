"""The prefork pool as an operator sees it: workers killed, recycled, reloaded (mid-upload and
under load); the master killed, stopped, or draining a stuck worker; PostgreSQL restarted under
the pool; a second instance on the same sockets; CGI mode; a bad secret at startup."""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack, give_to_service_user, service_dir  # noqa: E402

PG_SH = os.path.join(SOURCE, "scripts/pg.sh")


class Load:
    """Background GET /api/v1/auth/me load on `connections` connections; records every status."""

    def __init__(self, stack, token, connections=1):
        self.stack, self.token = stack, token
        self.statuses = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]

    def run(self):
        while not self.stop.is_set():
            try:
                self.statuses.append(self.stack.get("/api/v1/auth/me", token=self.token).status)
            except OSError:
                self.statuses.append(0)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def diary(stack):
    return stack.log_text("log/api.log")


class Pool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.S = Stack("pool", ROSTRUM_API_WORKERS=2)
        _, cls.token, _ = cls.S.new_user()

    @classmethod
    def tearDownClass(cls):
        cls.S.stop()

    def test_killed_worker_is_replaced_and_logged(self):
        S = self.S
        with Load(S, self.token) as load:
            S.wait_until(lambda: len(load.statuses) > 20, what="load running")
            victim = S.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            S.wait_until(lambda: victim not in S.worker_pids() and len(S.worker_pids()) == 2,
                         what="replacement worker")
            seen = len(load.statuses)
            S.wait_until(lambda: len(load.statuses) > seen + 20, what="load after the kill")
        text = diary(S)
        self.assertRegex(text, rf"child {victim} exited on signal 9")
        # Only the request in flight on the killed worker may fail (nginx answers 502).
        failures = [s for s in load.statuses if s != 200]
        self.assertLessEqual(len(failures), 1, failures)
        self.assertTrue(all(s == 502 for s in failures), failures)
        self.assertEqual(S.get("/api/v1/auth/me", token=self.token).status, 200)
        metrics = S.get("/metrics").body.decode()
        self.assertRegex(metrics, r"rostrum_worker_restarts_total [1-9]")

    def test_reload_serves_every_request(self):
        S = self.S
        before = set(S.worker_pids())
        with Load(S, self.token) as load:
            S.wait_until(lambda: len(load.statuses) > 10, what="load running")
            os.kill(S.api_master_pid(), signal.SIGHUP)
            S.wait_until(lambda: not (set(S.worker_pids()) & before) and len(S.worker_pids()) == 2,
                         what="new generation")
            seen = len(load.statuses)
            S.wait_until(lambda: len(load.statuses) > seen + 10, what="load after reload")
        self.assertEqual([s for s in load.statuses if s != 200], [])
        self.assertIn("reload: starting generation", diary(S))

    def reload_and_wait(self):
        """SIGHUP; returns once the new generation is complete and the old one has gone."""
        S = self.S
        before = set(S.worker_pids())
        os.kill(S.api_master_pid(), signal.SIGHUP)
        S.wait_until(lambda: not (set(S.worker_pids()) & before) and len(S.worker_pids()) == 2,
                     what="new generation")

    def upload_params(self, length, request_id):
        """FastCGI parameters of a raw audio/wav upload of length bytes, as nginx sends them."""
        return {b"REQUEST_METHOD": b"POST", b"DOCUMENT_URI": b"/api/v1/sessions",
                b"REQUEST_URI": b"/api/v1/sessions", b"CONTENT_TYPE": b"audio/wav",
                b"CONTENT_LENGTH": str(length).encode(), b"REMOTE_ADDR": b"127.0.0.1",
                b"HTTP_HOST": b"localhost", b"SERVER_NAME": b"localhost",
                b"REQUEST_ID": request_id.encode(),
                b"HTTP_AUTHORIZATION": f"Bearer {self.token}".encode()}

    def bad_upload(self, body):
        """A body read to its end and only then refused (not audio): the status line."""
        up = FcgiStream(os.path.join(self.S.dir, "run/api.sock"),
                        self.upload_params(len(body), "reload-load"))
        try:
            up.send(body)
            answer = up.finish()
        finally:
            up.close()
        m = re.match(rb"Status: (\d+)", answer)
        return int(m.group(1)) if m else 0

    def test_reloads_under_64_connections_fail_nothing(self):
        """60 connections of GETs through nginx and 4 of 1 MB uploads sent in pieces straight to
        the socket (the worker blocks reading between them), five reloads: every answer is the
        one it would be without a reload."""
        S = self.S
        body = b"not audio at all " * (1024 * 1024 // 17)
        refused = self.bad_upload(body)
        self.assertGreaterEqual(refused, 401, "a body that is not audio is refused once read")
        uploads, stop = [], threading.Event()

        def upload_loop():
            while not stop.is_set():
                try:
                    uploads.append(self.bad_upload(body))
                except OSError:
                    uploads.append(0)
        threads = [threading.Thread(target=upload_loop, daemon=True) for _ in range(4)]
        with Load(S, self.token, connections=60) as load:
            for t in threads:
                t.start()
            try:
                S.wait_until(lambda: len(load.statuses) > 200 and len(uploads) > 8, timeout=60,
                             what="load running")
                for _ in range(5):
                    self.reload_and_wait()
                    seen, seen_up = len(load.statuses), len(uploads)
                    S.wait_until(lambda: len(load.statuses) > seen + 60
                                 and len(uploads) > seen_up + 4, timeout=60,
                                 what="load after the reload")
            finally:
                stop.set()
                for t in threads:
                    t.join(30)
        failures = [s for s in load.statuses if s != 200]
        self.assertEqual(failures, [], f"{len(failures)} of {len(load.statuses)} GETs failed")
        wrong = [s for s in uploads if s != refused]
        self.assertEqual(wrong, [], f"{len(wrong)} of {len(uploads)} uploads answered otherwise")

    def test_reload_mid_upload_completes_the_upload(self):
        """A 50 MB upload sent slowly straight to the FastCGI socket (as a web server that does not
        buffer bodies would), with a reload in the middle: the old worker finishes it (202)."""
        S = self.S
        S.wait_until(lambda: len(S.worker_pids()) == 2, what="pool at full strength")
        before = set(S.worker_pids())
        body = wav_header(50 * 1024 * 1024) + bytes(50 * 1024 * 1024)
        up = FcgiStream(os.path.join(S.dir, "run/api.sock"),
                        self.upload_params(len(body), "reload-mid-upload"))
        try:
            up.send(body[:10 * 1024 * 1024])
            os.kill(S.api_master_pid(), signal.SIGHUP)

            # The new generation is up and the old one told to stop: the idle old worker has
            # gone, the one reading our body holds SIGTERM pending (or, unfixed, has answered).
            def old_worker_told():
                if up.readable():
                    return True
                old = [p for p in before if alive(p)]
                new = set(S.worker_pids()) - before
                return len(new) == 2 and len(old) == 1 and sigterm_pending(old[0])
            S.wait_until(old_worker_told, timeout=30, what="the old worker told to stop")
            busy = [p for p in before if alive(p)]
            up.send(body[10 * 1024 * 1024:])
            answer = up.finish()
        finally:
            up.close()
        self.assertIn(b"Status: 202", answer[:200], answer[:400])
        sid = re.search(rb'"id":"([0-9a-f-]{36})"', answer).group(1).decode()
        # 27 minutes of silence: not worth decoding.
        self.assertEqual(S.request("DELETE", f"/api/v1/sessions/{sid}", token=self.token).status,
                         204)
        S.wait_until(lambda: not any(alive(p) for p in busy), what="the old worker to exit")
        S.wait_until(lambda: len(S.worker_pids()) == 2, what="pool at full strength")

    def test_second_instance_refuses_and_the_first_keeps_serving(self):
        S = self.S
        for cmd, sock in (("api", "run/api.sock"), ("live", "run/live.sock")):
            p = subprocess.Popen([BIN, cmd], env=S.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                _, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail(f"a second `rostrum {cmd}` kept running on {sock}")
            self.assertNotEqual(p.returncode, 0, err)
            self.assertIn("another instance is already listening on", err)
            self.assertTrue(os.path.exists(os.path.join(S.dir, sock)), sock)
        self.assertEqual(S.get("/api/v1/auth/me", token=self.token).status, 200)
        r = subprocess.run(["curl", "-fsS", "--unix-socket", os.path.join(S.dir, "run/live.sock"),
                            "http://live/readyz"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_direct_fastcgi_abuse_never_kills_the_pool(self):
        S = self.S
        sock = os.path.join(S.dir, "run/api.sock")
        for record in fastcgi_abuse():
            answer = fcgi_exchange(sock, record)
            if answer:
                self.assertNotIn(b"Status: 5", answer)
        for cl in (b"-1", b"+5", b" 5", b"99999999999999999999"):
            answer = fcgi_exchange(sock, fcgi_request({b"REQUEST_METHOD": b"POST",
                                                       b"DOCUMENT_URI": b"/api/v1/auth/login",
                                                       b"CONTENT_TYPE": b"application/json",
                                                       b"CONTENT_LENGTH": cl}, b"{}"))
            self.assertIn(b"Status: 400", answer, cl)
        # Declares 10 MB, sends 10 bytes and closes: 400 or 413, never a stored row.
        answer = fcgi_exchange(sock, fcgi_request({b"REQUEST_METHOD": b"POST",
                                                   b"DOCUMENT_URI": b"/api/v1/auth/register",
                                                   b"CONTENT_TYPE": b"application/json",
                                                   b"CONTENT_LENGTH": b"10000000"}, b"0123456789"))
        self.assertRegex(answer or b"Status: 413", rb"Status: 4\d\d")
        S.wait_until(lambda: len(S.worker_pids()) == 2, what="pool at full strength")
        self.assertEqual(S.get("/api/v1/auth/me", token=self.token).status, 200)


class Lifecycle(unittest.TestCase):
    def test_recycle_after_max_requests(self):
        S = Stack("recycle", ROSTRUM_API_WORKERS=1, ROSTRUM_API_MAX_REQUESTS=3)
        try:
            statuses = [S.get("/healthz").status for _ in range(12)]
            self.assertEqual(statuses, [200] * 12)
            S.wait_until(lambda: diary(S).count("recycled") >= 3, what="recycles in the diary")
        finally:
            S.stop()

    def test_postgres_restart_is_invisible_after_it_is_back(self):
        S = Stack("pgrestart", embedded_pg=True)
        try:
            _, token, _ = S.new_user()
            pg = os.path.join(S.dir, "pg")
            subprocess.run([PG_SH, "stop", pg], check=True)
            down = S.get("/api/v1/auth/me", token=token)
            self.assertEqual(down.status, 503, down)
            self.assertEqual(S.get("/readyz").status, 503)
            subprocess.run([PG_SH, "start", pg], check=True)
            # The very next request after PostgreSQL is back succeeds: workers reconnect.
            for _ in range(4):
                self.assertEqual(S.get("/api/v1/auth/me", token=token).status, 200)
            self.assertEqual(S.get("/readyz").status, 200)
        finally:
            S.stop()

    def test_master_sigterm_drains_and_kill9_takes_workers_along(self):
        S = Stack("master", ROSTRUM_API_DRAIN_TIMEOUT_S=3)
        stopped = []
        try:
            master, workers = S.api_master_pid(), S.worker_pids()
            os.kill(master, signal.SIGKILL)
            S.wait_until(lambda: not any(alive(p) for p in workers), timeout=10,
                         what="workers to exit after the master died")
            S.script("down")
            S.script("up")
            self.assertEqual(S.get("/healthz").status, 200)
            master = S.api_master_pid()
            # One worker stuck (stopped): the drain deadline (3 s) ends it with SIGKILL.
            stuck = S.worker_pids()[0]
            os.kill(stuck, signal.SIGSTOP)
            stopped.append(stuck)
            t0 = time.monotonic()
            os.kill(master, signal.SIGTERM)
            S.wait_until(lambda: not alive(master), timeout=15, what="master to drain")
            self.assertLess(time.monotonic() - t0, 3 + 5)
            self.assertIn(f"drain deadline (3 s) passed: killing child {stuck}", diary(S))
            self.assertRegex(diary(S), rf"child {stuck} exited on signal 9")
            self.assertIn("stopped", diary(S))
            self.assertFalse(os.path.exists(os.path.join(S.dir, "run/api.sock")))
        finally:
            for pid in stopped:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            S.stop()


class Startup(unittest.TestCase):
    def run_bin(self, *args, **env):
        e = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRUM_")}
        e.update(env)
        return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=30)

    def test_short_secret_refused(self):
        r = self.run_bin("api", ROSTRUM_DATA_DIR="/tmp/rostrum-short-secret", ROSTRUM_JWT_SECRET="short")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("jwt.secret", r.stderr)
        self.assertNotIn("short\"", r.stderr)  # the secret itself is never printed

    def test_bad_config_value_names_the_key(self):
        r = self.run_bin("check-config", ROSTRUM_API_WORKERS="0")
        self.assertEqual(r.returncode, 78)
        self.assertIn("api.workers", r.stderr)

    def test_stale_socket_is_replaced_and_a_file_is_never_removed(self):
        d = service_dir("rostrum-stale-")  # the dropped daemon creates its socket here
        path = os.path.join(d, "api.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)  # a crashed run's socket: the file stays, nobody listens
        stale.close()
        give_to_service_user(path)  # as the crashed daemon (dropped to the service user) left it
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRUM_")}
        env.update(ROSTRUM_DATA_DIR=d, ROSTRUM_API_SOCKET=path, ROSTRUM_API_WORKERS="1",
                   ROSTRUM_JWT_SECRET="s" * 40, ROSTRUM_DB_URL=f"host={d} dbname=none")
        with open(os.path.join(d, "api.log"), "wb") as log:
            p = subprocess.Popen([BIN, "api"], env=env, stdout=log, stderr=log)
        try:
            poll(lambda: "listening on" in read(os.path.join(d, "api.log")),
                 what="api listening on the stale socket's path")
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(path)
            self.assertIn("removed the stale socket", read(os.path.join(d, "api.log")))
        finally:
            p.terminate()
            self.assertEqual(p.wait(30), 0)
        with open(path, "w") as f:
            f.write("not a socket")
        r = subprocess.run([BIN, "api"], env=env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not a socket", r.stderr)
        self.assertEqual(read(path), "not a socket")
        if os.geteuid() != 0:
            return
        # A live listener the service user may not connect to (root's, mode 0700): its
        # connect() fails with EACCES, which says nothing about a listener, so the daemon
        # refuses rather than unlinking the socket of a running server.
        os.unlink(path)
        with socket.socket(socket.AF_UNIX) as live:
            live.bind(path)
            os.chmod(path, 0o700)
            live.listen(1)
            r = subprocess.run([BIN, "api"], env=env, capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("cannot tell whether", r.stderr)
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(path)  # still the live listener's

    def test_failed_forks_are_retried_with_backoff(self):
        """fork() fails 3 times (an LD_PRELOAD shim; root ignores RLIMIT_NPROC): the master logs
        each failure with its back-off, then starts the worker, and SIGTERM still stops it."""
        d = service_dir("rostrum-forkfail-")  # the dropped daemon creates its socket here
        shim = os.path.join(d, "fail_fork.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", shim,
                        os.path.join(SOURCE, "tests/harness/fail_fork.c"), "-ldl"], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRUM_")}
        env.update(ROSTRUM_DATA_DIR=d, ROSTRUM_API_SOCKET=os.path.join(d, "api.sock"),
                   ROSTRUM_API_WORKERS="1", ROSTRUM_JWT_SECRET="s" * 40,
                   ROSTRUM_DB_URL=f"host={d} dbname=none", LD_PRELOAD=shim,
                   ROSTRUM_TEST_FAIL_FORKS="3")
        log_path = os.path.join(d, "api.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([BIN, "api"], env=env, stdout=log, stderr=log)
        try:
            poll(lambda: re.search(r"child \d+ started", read(log_path)), timeout=30,
                 what="the worker started after the failed forks")
        finally:
            p.terminate()
            rc = p.wait(30)
        self.assertEqual(rc, 0, read(log_path))
        delays = re.findall(r"fork failed: Resource temporarily unavailable; next attempt in "
                            r"(\d+) ms", read(log_path))
        self.assertEqual(delays, ["100", "200", "400"], read(log_path))

    def test_stack_down_never_signals_pid_0_or_minus_1(self):
        """Pid files holding -1, 0 or nothing: `stack.sh down` signals nobody. Run in a PID
        namespace and a session of its own, so that a regression (kill -1: every process; kill 0:
        the process group, which a PID namespace does not confine) reaches only the sentinel."""
        if os.geteuid() != 0:
            self.skipTest("a PID namespace needs root")
        d = tempfile.mkdtemp(prefix="rostrum-pidfiles-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        os.makedirs(os.path.join(d, "run"))
        for name, content in (("api", "-1\n"), ("worker", "0\n"), ("live", "")):
            with open(os.path.join(d, f"run/{name}.pid"), "w") as f:
                f.write(content)
        script = ('sleep 600 & s=$!; "$STACK" down >/dev/null; '
                  'if kill -0 "$s" 2>/dev/null; then echo sentinel-alive; kill "$s"; fi')
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRUM_")}
        env.update(ROSTRUM_DATA_DIR=d, ROSTRUM_DB_URL="host=/nonexistent",
                   STACK=os.path.join(SOURCE, "scripts/stack.sh"))
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "bash", "-c", script],
                           env=env, capture_output=True, text=True, timeout=60,
                           start_new_session=True)
        if "unshare failed" in r.stderr:
            self.skipTest(r.stderr.strip())
        self.assertIn("sentinel-alive", r.stdout, r.stderr)

    def test_check_config_masks_secrets(self):
        r = self.run_bin("check-config", ROSTRUM_JWT_SECRET="s" * 40, ROSTRUM_DB_URL="host=/x password=pw")
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("s" * 40, r.stdout)
        self.assertNotIn("password=pw", r.stdout)


class Cgi(unittest.TestCase):
    """The same binary started by a CGI server answers exactly one request and exits."""

    @classmethod
    def setUpClass(cls):
        cls.S = Stack("cgi")

    @classmethod
    def tearDownClass(cls):
        cls.S.stop()

    def cgi(self, method, path, body=b"", content_type="", headers=None):
        env = {k: v for k, v in self.S.env.items()}
        env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "SCRIPT_NAME": path,
                    "QUERY_STRING": "", "CONTENT_LENGTH": str(len(body)) if body else "",
                    "CONTENT_TYPE": content_type, "SERVER_PROTOCOL": "HTTP/1.1"})
        env.update(headers or {})
        r = subprocess.run([BIN], input=body, env=env, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        head, _, payload = r.stdout.partition(b"\r\n\r\n")
        status = int(re.match(rb"Status: (\d+)", head).group(1))
        return status, head, payload

    def test_health_over_cgi(self):
        status, head, body = self.cgi("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertIn(b"application/json", head)
        self.assertEqual(body, b'{"status":"ok"}')

    def test_register_and_login_over_cgi(self):
        body = b'{"email":"cgi@example.com","password":"correct horse battery","name":"C"}'
        self.assertEqual(self.cgi("POST", "/api/v1/auth/register", body, "application/json")[0], 201)
        status, _, payload = self.cgi("POST", "/api/v1/auth/login",
                                      b'{"email":"cgi@example.com","password":"correct horse battery"}',
                                      "application/json")
        self.assertEqual(status, 200)
        self.assertIn(b"access_token", payload)

    def test_bad_json_over_cgi_is_400(self):
        status, head, _ = self.cgi("POST", "/api/v1/auth/login", b"{", "application/json")
        self.assertEqual(status, 400)
        self.assertIn(b"application/problem+json", head)


class OperatorCommands(unittest.TestCase):
    """rostrum user create-admin | promote | demote | deactivate | activate, on a live stack."""

    @classmethod
    def setUpClass(cls):
        cls.S = Stack("cli")
        cls.S.new_user()  # the first account becomes admin; the tests' users are members

    @classmethod
    def tearDownClass(cls):
        cls.S.stop()

    def cli(self, *args, password=None):
        env = dict(self.S.env)
        if password:
            env["ROSTRUM_PASSWORD"] = password
        return subprocess.run([BIN, "user", *args], env=env, capture_output=True, text=True, timeout=60)

    def test_create_admin_then_deactivate_and_activate(self):
        r = self.cli("create-admin", "Ops@Example.com", "Ops", password="a long operator password")
        self.assertEqual(r.returncode, 0, r.stderr)
        pair = self.S.login("ops@example.com", "a long operator password")
        me = self.S.get("/api/v1/auth/me", token=pair["access_token"]).json()
        self.assertEqual(me["role"], "admin")
        self.assertEqual(self.cli("deactivate", "ops@example.com").returncode, 0)
        self.assertEqual(self.S.get("/api/v1/auth/me", token=pair["access_token"]).status, 401)
        self.assertEqual(self.cli("activate", "ops@example.com").returncode, 0)
        self.S.login("ops@example.com", "a long operator password")

    def test_promote_and_demote(self):
        user, token, _ = self.S.new_user()
        self.assertEqual(self.S.get("/api/v1/users", token=token).status, 403)
        self.assertEqual(self.cli("promote", user["email"]).returncode, 0)
        # A role change revokes tokens issued before it; a fresh login carries the new role.
        self.assertEqual(self.S.get("/api/v1/users", token=token).status, 401)
        token = self.S.login(user["email"])["access_token"]
        self.assertEqual(self.S.get("/api/v1/users", token=token).status, 200)
        self.assertEqual(self.cli("demote", user["email"]).returncode, 0)

    def test_weak_password_and_unknown_user_refused(self):
        self.assertNotEqual(self.cli("create-admin", "w@example.com", "W", password="password").returncode, 0)
        self.assertNotEqual(self.cli("promote", "nobody@example.com").returncode, 0)
        self.assertEqual(self.cli("bogus").returncode, 2)


def alive(pid):
    """True for a live process (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


def sigterm_pending(pid):
    """SIGTERM pending (sent, not yet taken) for the process, from /proc/<pid>/status."""
    try:
        with open(f"/proc/{pid}/status") as f:
            masks = dict(line.split(":\t", 1) for line in f if ":\t" in line)
    except FileNotFoundError:
        return False
    bit = 1 << (signal.SIGTERM - 1)
    return any(int(masks.get(k, "0").strip(), 16) & bit for k in ("SigPnd", "ShdPnd"))


def poll(predicate, timeout=30, what="condition"):
    """Polls predicate() until it holds (no fixed sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wav_header(data_bytes, rate=16000):
    """A PCM WAV header (mono, 16-bit) for data_bytes of samples."""
    import struct
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) +
            b"data" + struct.pack("<I", data_bytes))


# --- a minimal FastCGI client (the harness is the only thing that can reach the socket) -------
def record(rtype, content=b"", request_id=1):
    return bytes([1, rtype, request_id >> 8, request_id & 255, len(content) >> 8, len(content) & 255,
                  0, 0]) + content


def nv(name, value):
    def length(n):
        return bytes([n]) if n < 128 else (n | 0x80000000).to_bytes(4, "big")
    return length(len(name)) + length(len(value)) + name + value


def fcgi_request(params, stdin):
    begin = record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0]))
    p = b"".join(nv(k, v) for k, v in params.items())
    return begin + record(4, p) + record(4) + (record(5, stdin) if stdin else b"") + record(5)


def fastcgi_abuse():
    begin = record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0]))
    huge = (0x7FFFFFFF | 0x80000000).to_bytes(4, "big")
    return [
        begin + record(4, huge + huge + b"AAAA"),           # B63: CVE-2025-23016 shape
        begin + record(4, b"\x05\x05abc"),                     # B64: truncated params
        begin[:5],                                             # B64: truncated header
        record(9, nv(b"FCGI_MAX_CONNS", b"")),                 # B64: FCGI_GET_VALUES
        record(42, b"xyz"),                                    # B64: unknown type
        begin + record(4) + record(5),                         # B64: empty params, empty stdin
    ]


class FcgiStream:
    """One FastCGI request whose body is sent in pieces, as slowly as the caller likes."""

    def __init__(self, path, params, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        begin = record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0]))
        p = b"".join(nv(k, v) for k, v in params.items())
        self.sock.sendall(begin + record(4, p) + record(4))
        self.broken = False

    def send(self, data):
        for i in range(0, len(data), 32768):
            try:
                self.sock.sendall(record(5, data[i:i + 32768]))
            except OSError:  # the worker answered early and closed: finish() reads its answer
                self.broken = True
                return

    def readable(self):
        return bool(select.select([self.sock], [], [], 0)[0])

    def finish(self):
        if not self.broken:
            try:
                self.sock.sendall(record(5))
            except OSError:
                pass
        out = []
        try:
            while True:
                b = self.sock.recv(65536)
                if not b:
                    break
                out.append(b)
        except (socket.timeout, ConnectionResetError):
            pass
        return stdout_of(b"".join(out))

    def close(self):
        self.sock.close()


def stdout_of(raw):
    """The FCGI_STDOUT contents of a stream of records."""
    body, i = [], 0
    while i + 8 <= len(raw):
        rtype, clen, plen = raw[i + 1], (raw[i + 4] << 8) | raw[i + 5], raw[i + 6]
        if rtype == 6:
            body.append(raw[i + 8:i + 8 + clen])
        i += 8 + clen + plen
    return b"".join(body)


def fcgi_exchange(path, data, timeout=5):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            return b""
        out = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out.append(b)
        except (socket.timeout, ConnectionResetError):
            pass
        raw = b"".join(out)
    return stdout_of(raw)


if __name__ == "__main__":
    unittest.main(verbosity=2)
