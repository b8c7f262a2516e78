"""The prefork pool as an operator sees it: workers killed, recycled, reloaded; the master
killed or stopped; PostgreSQL restarted under the pool; CGI mode; a bad secret at startup."""
import os
import re
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack  # noqa: E402

PG_SH = os.path.join(SOURCE, "scripts/pg.sh")


class Load:
    """Background GET /api/v1/auth/me load; records every status."""

    def __init__(self, stack, token):
        self.stack, self.token = stack, token
        self.statuses = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.statuses.append(self.stack.get("/api/v1/auth/me", token=self.token).status)
            except OSError:
                self.statuses.append(0)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


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
        S = Stack("master")
        try:
            master, workers = S.api_master_pid(), S.worker_pids()
            os.kill(master, signal.SIGKILL)
            S.wait_until(lambda: not any(alive(p) for p in workers), timeout=10,
                         what="workers to exit after the master died")
            S.script("down")
            S.script("up")
            self.assertEqual(S.get("/healthz").status, 200)
            master = S.api_master_pid()
            os.kill(master, signal.SIGTERM)
            S.wait_until(lambda: not alive(master), timeout=35, what="master to drain")
            self.assertIn("stopped", diary(S))
            self.assertFalse(os.path.exists(os.path.join(S.dir, "run/api.sock")))
        finally:
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
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


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


def fcgi_exchange(path, data, timeout=5):
    import socket
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
    # Concatenate FCGI_STDOUT contents.
    body, i = [], 0
    while i + 8 <= len(raw):
        rtype, clen, plen = raw[i + 1], (raw[i + 4] << 8) | raw[i + 5], raw[i + 6]
        if rtype == 6:
            body.append(raw[i + 8:i + 8 + clen])
        i += 8 + clen + plen
    return b"".join(body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
