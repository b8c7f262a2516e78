"""The shared host (issue 16, "Shared host"): Debian's Apache 2.4 started as a non-root user with
a configuration of its own (ServerRoot, PidFile, logs in a temp directory: the "host's" part),
the site laid out as docs/deploy-shared-host.md says (the binary, rostrum.conf mode 0600, var/,
deploy/apache/htaccess as .htaccess), and the smoke journey through it for mod_cgid (a process per
request) and mod_fcgid (processes it starts and keeps, serving the socket on fd 0): register,
login, upload a real recording, `rostrum worker --drain` as cron runs it, the status polled to
done, the report read, the audio downloaded with a Range request (206, streamed by the
application: no X-Accel-Redirect without nginx). Bad input through Apache answers the same
problem+json as through nginx. And the cron drain's own guarantees: two runs never overlap, a
run stops claiming after worker.drain_budget_s.

The hosting customer is the service user under root (the CGI and cron run as them), else the
user running the tests. `rostrum migrate` and `user create-admin` run as the calling user: the
test cluster's peer map lets only it own the schema (scripts/pg.sh), as a host gives its
customer the database's owner role.
"""
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, PG, PSQL, SERVICE_USER, SOURCE, TMP, Response, Stack, free_port  # noqa: E402

SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.abspath(os.path.join(SOURCE, "..", "shared", "data", "speech")))
# 587 KB: larger than mod_fcgid's default FcgidMaxRequestLen (128 KiB) and its in-memory part.
RECORDING = os.path.join(SPEECH, "read", "harvard_sentences.wav")
SHORT = os.path.join(SPEECH, "read", "ps_goforward.wav")
APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
JOB_S = 180
NGINX = None  # the embedded stack, for the problem+json comparison


def customer():
    """(name, uid, gid) of the hosting customer: whoever Apache, the CGI and cron run as."""
    pw = pwd.getpwnam(SERVICE_USER) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return pw.pw_name, pw.pw_uid, pw.pw_gid


def as_customer(argv):
    """argv run as the customer (setpriv under root: no shell, no login, like cron's job)."""
    if os.geteuid() != 0:
        return argv
    name, uid, gid = customer()
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--reset-env", *argv]


def chown_tree(path):
    _, uid, gid = customer()
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for n in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            os.lchown(n, uid, gid)


def setUpModule():
    global NGINX
    for m in ("mod_cgid.so", "mod_fcgid.so", "mod_rewrite.so"):
        if not os.path.exists(os.path.join(MODULES, m)):
            raise RuntimeError(f"{m} missing: scripts/deps.sh installs apache2 and libapache2-mod-fcgid")
    NGINX = Stack("apache-ref", ROSTRUM_AUTH_FIRST_USER_ADMIN="false")


def tearDownModule():
    NGINX.stop()


class Site:
    """One shared-host install: a database, the web space, and Apache with one handler module."""

    def __init__(self, module, **conf):
        self.module = module
        self.db = f"t_apache_{module}_{secrets.token_hex(4)}"
        subprocess.run([os.path.join(SOURCE, "scripts/pg.sh"), "start", PG, self.db], check=True,
                       capture_output=True)
        self.tmp = tempfile.mkdtemp(prefix=f"rostrum-apache-{module}-", dir=TMP)
        os.chmod(self.tmp, 0o755)
        self.site = os.path.join(self.tmp, "site")   # the customer's web space
        self.server = os.path.join(self.tmp, "apache")  # the host's ServerRoot, logs, pid
        self.binary = os.path.join(self.site, "rostrum")
        self.conf = os.path.join(self.site, "rostrum.conf")
        self.data = os.path.join(self.site, "var")
        self.lay_out(conf)
        self.port = free_port()
        self.write_apache_conf()
        self.migrate_and_admin()
        self.apache = subprocess.Popen(as_customer([APACHE, "-f", self.apache_conf, "-DFOREGROUND"]),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
        self.wait_ready()

    # --- the install, step by step as docs/deploy-shared-host.md says -----------------------------
    def lay_out(self, conf):
        os.makedirs(os.path.join(self.data))
        os.makedirs(self.server)
        shutil.copy2(BIN, self.binary)
        os.chmod(self.binary, 0o755)
        shutil.copy(os.path.join(SOURCE, "deploy/apache/htaccess"), os.path.join(self.site, ".htaccess"))
        shutil.copy(os.path.join(SOURCE, "deploy/apache/var.htaccess"), os.path.join(self.data, ".htaccess"))
        shutil.copy(os.path.join(SOURCE, "web/index.html"), os.path.join(self.site, "index.html"))
        settings = {
            "ROSTRUM_DB_URL": f"host={PG}/run dbname={self.db}",
            "ROSTRUM_DATA_DIR": self.data,
            "ROSTRUM_AUTH_FIRST_USER_ADMIN": "false",
            "ROSTRUM_AUTH_COOKIE_SECURE": "false",
            "ROSTRUM_WORKER_THREADS": "1",
        }
        settings.update({k: str(v) for k, v in conf.items()})
        with open(self.conf, "w") as f:
            f.write("# Rostrum's configuration on this host (docs/deploy-shared-host.md)\n")
            f.write("".join(f"{k}={v}\n" for k, v in settings.items()))
        os.chmod(self.conf, 0o600)
        os.chmod(self.data, 0o700)
        os.chmod(self.site, 0o755)
        chown_tree(self.site)
        chown_tree(self.server)

    def write_apache_conf(self):
        s, srv = self.site, self.server
        handler = {
            # mod_cgid's daemon and its socket under the ServerRoot, not /run/apache2.
            "cgid": f"LoadModule cgid_module {MODULES}/mod_cgid.so\nScriptSock {srv}/cgid.sock\n",
            # A host's fcgid settings: FcgidMaxRequestLen is server-wide (not .htaccess), here
            # raised to the site's upload limit, as docs/deploy-shared-host.md asks the host to.
            "fcgid": f"LoadModule fcgid_module {MODULES}/mod_fcgid.so\n"
                     f"FcgidIPCDir {srv}/fcgid\nFcgidProcessTableFile {srv}/fcgid_shm\n"
                     "FcgidMaxRequestLen 210763776\nFcgidMaxProcessesPerClass 2\n"
                     "FcgidIOTimeout 150\nFcgidConnectTimeout 20\n",
        }[self.module]
        text = f"""# A shared host's Apache, generated by tests/api/test_deploy_apache.py.
ServerRoot "{srv}"
PidFile "{srv}/apache2.pid"
DefaultRuntimeDir "{srv}"
Mutex file:{srv} default
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
ErrorLog "{srv}/error.log"
LogLevel warn
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule rewrite_module {MODULES}/mod_rewrite.so
LoadModule headers_module {MODULES}/mod_headers.so
{handler}
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
TypesConfig /etc/mime.types
LogFormat "%h %t \\"%r\\" %>s %b %D" timed
CustomLog "{srv}/access.log" timed
DocumentRoot "{s}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{s}">
    AllowOverride All
    Require all granted
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
"""
        self.apache_conf = os.path.join(srv, "apache2.conf")
        with open(self.apache_conf, "w") as f:
            f.write(text)
        if self.module == "fcgid":
            os.makedirs(os.path.join(srv, "fcgid"))
        chown_tree(srv)

    def migrate_and_admin(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ROSTRUM_CONFIG_FILE": self.conf}
        r = subprocess.run([self.binary, "migrate"], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([self.binary, "user", "create-admin", "admin@example.com", "Admin"],
                           env=env, input="correct horse battery admin\n", capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    def wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.apache.poll() is not None:
                raise RuntimeError(f"apache2 exited {self.apache.returncode}:\n{self.error_log()}")
            try:
                if self.request("GET", "/healthz", timeout=5).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)  # polling a condition with a deadline
        raise RuntimeError("apache2 did not answer /healthz:\n" + self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.server, "error.log"), errors="replace") as f:
                return f.read()[-6000:]
        except FileNotFoundError:
            return "(no error.log)"

    def stop(self):
        if self.apache.poll() is None:
            os.killpg(self.apache.pid, signal.SIGTERM)  # its own session: Apache and its children
            try:
                self.apache.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.apache.pid, signal.SIGKILL)
                self.apache.wait(10)
        subprocess.run([PSQL, "-h", f"{PG}/run", "-d", "postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'], capture_output=True)
        if os.environ.get("ROSTRUM_TEST_KEEP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- cron ------------------------------------------------------------------------------------
    def drain(self, wait=True, **env):
        """`/path/rostrum worker --drain` as the crontab line runs it: as the customer, with
        nothing in the environment but PATH (the configuration is the file beside the binary)."""
        argv = as_customer([self.binary, "worker", "--drain"])
        e = {"PATH": "/usr/bin:/bin", **{k: str(v) for k, v in env.items()}}
        if env and os.geteuid() == 0:  # setpriv --reset-env would drop them: pass them through env(1)
            argv = argv[:-3] + ["env", *(f"{k}={v}" for k, v in e.items()), *argv[-3:]]
        log = tempfile.NamedTemporaryFile(prefix="drain-", suffix=".log", dir=self.tmp, delete=False)
        p = subprocess.Popen(argv, env=e, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        p.log_path = log.name
        log.close()
        if wait:
            p.wait(JOB_S)
        return p

    # --- HTTP ------------------------------------------------------------------------------------
    def request(self, method, path, body=None, json_body=None, token=None, headers=None,
                content_type=None, timeout=60):
        return http_request(self.port, method, path, body, json_body, token, headers, content_type, timeout)


def http_request(port, method, path, body=None, json_body=None, token=None, headers=None,
                 content_type=None, timeout=60):
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        content_type = content_type or "application/json"
    if isinstance(body, str):
        body = body.encode()
    if content_type:
        hdrs["Content-Type"] = content_type
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    finally:
        conn.close()


def log_of(p):
    with open(p.log_path, errors="replace") as f:
        return f.read()


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Journey:
    """The smoke journey through one Apache handler module (mixed into a TestCase below)."""
    MODULE = None

    @classmethod
    def setUpClass(cls):
        cls.site = Site(cls.MODULE)

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()

    def user(self):
        email = f"u{secrets.token_hex(4)}@example.com"
        r = self.site.request("POST", "/api/v1/auth/register",
                              json_body={"email": email, "password": "correct horse battery", "name": "Host User"})
        self.assertEqual(r.status, 201, f"{r}\n{self.site.error_log()}")
        r = self.site.request("POST", "/api/v1/auth/login",
                              json_body={"email": email, "password": "correct horse battery"})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"]

    def test_upload_drain_report_and_ranged_download(self):
        site = self.site
        token = self.user()
        audio = read(RECORDING)
        r = site.request("POST", "/api/v1/sessions?title=shared%20host", body=audio,
                         content_type="audio/wav", token=token)
        self.assertEqual(r.status, 202, f"{r}\n{site.error_log()}")
        sid = r.json()["id"]
        self.assertEqual(site.request("GET", f"/api/v1/sessions/{sid}", token=token).json()["status"], "queued")
        drain = site.drain()
        self.assertEqual(drain.returncode, 0, log_of(drain))
        # Polling, as a client on a host without /ws/ does.
        deadline = time.monotonic() + 30
        while True:
            body = site.request("GET", f"/api/v1/sessions/{sid}", token=token).json()
            if body["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(body["status"], "done", f"{body}\n{log_of(drain)}")
        self.assertEqual(body["title"], "shared host")
        self.assertGreater(len(body["transcript"]["words"]), 10)
        self.assertIn("scores", json.dumps(body["analysis"]))
        r = site.request("GET", f"/api/v1/sessions/{sid}/transcript?format=txt", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.body.strip())
        # The events the worker stored, by the long-poll route (no WebSocket on a shared host).
        r = site.request("GET", "/api/v1/events?since=0", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertIn("session.done", r.body.decode())
        # The audio, streamed by the application with Range support.
        r = site.request("GET", f"/api/v1/sessions/{sid}/audio", token=token, headers={"Range": "bytes=100-1123"})
        self.assertEqual(r.status, 206, f"{r}\n{site.error_log()}")
        self.assertEqual(r.body, audio[100:1124])
        self.assertEqual(r.header("content-range"), f"bytes 100-1123/{len(audio)}")
        self.assertEqual(r.header("content-type"), "audio/wav")
        r = site.request("GET", f"/api/v1/sessions/{sid}/audio", token=token)
        self.assertEqual((r.status, r.body == audio, r.header("accept-ranges")), (200, True, "bytes"))
        r = site.request("GET", f"/api/v1/sessions/{sid}/audio", token=token,
                         headers={"Range": f"bytes={len(audio) + 10}-"})
        self.assertEqual(r.status, 416, r)
        self.assertEqual(r.header("content-type"), "application/problem+json; charset=utf-8")
        # Another user's session is 404, through Apache as through nginx.
        other = self.user()
        self.assertEqual(site.request("GET", f"/api/v1/sessions/{sid}/audio", token=other).status, 404)

    def test_bad_input_answers_the_same_problem_as_nginx(self):
        site = self.site
        tokens = {"apache": self.user(), "nginx": NGINX.new_user()[1]}
        ports = {"apache": site.port, "nginx": NGINX.port}
        cases = [
            ("POST", "/api/v1/auth/login", b"{", "application/json", False),
            ("POST", "/api/v1/auth/login", b"email=a", "text/plain", False),
            ("POST", "/api/v1/auth/register", json.dumps({"email": "x", "password": "p"}).encode(),
             "application/json", False),
            ("GET", "/api/v1/sessions?bogus=1", None, None, True),
            # mod_cgid passes a query without '=' as argv: never a command (cli/main.cpp).
            ("GET", "/api/v1/sessions?migrate", None, None, True),
            ("GET", "/api/v1/sessions?user+create-admin+evil@example.com+Evil", None, None, True),
            ("GET", "/api/v1/sessions?limit=abc", None, None, True),
            # (Not /api/v1/sessions: nginx's auth_request answers that 401 with its own detail.)
            ("GET", "/api/v1/auth/me", None, None, False),
            ("GET", "/api/v1/sessions/00000000-0000-4000-8000-000000000000", None, None, True),
            ("GET", "/api/v1/sessions/not-a-uuid", None, None, True),
            ("POST", "/api/v1/sessions", b"not audio at all", "audio/wav", True),
            ("DELETE", "/api/v1/auth/login", None, None, False),
            ("GET", "/api/v1/no-such-route", None, None, False),
        ]
        for method, path, body, ctype, auth in cases:
            got = {}
            for side, port in ports.items():
                r = http_request(port, method, path, body=body, content_type=ctype,
                                 token=tokens[side] if auth else None)
                problem = json.loads(r.body)
                self.assertTrue(problem.pop("request_id", None), f"{side} {method} {path}: no request_id {r}")
                got[side] = (r.status, r.header("content-type"), problem)
            self.assertEqual(got["apache"], got["nginx"], f"{method} {path}")
            self.assertEqual(got["apache"][1], "application/problem+json; charset=utf-8")

    def test_data_and_configuration_are_not_served(self):
        site = self.site
        for path in ("/rostrum.conf", "/var/", "/var/secrets/jwt.key", "/var/.htaccess", "/.htaccess",
                     "/rostrum", "/rostrum/api/v1/sessions"):
            r = site.request("GET", path)
            self.assertIn(r.status, (403, 404), f"{path}: {r}")
            self.assertNotIn(b"ROSTRUM_DB_URL", r.body)
        self.assertTrue(os.path.exists(os.path.join(site.data, "secrets", "jwt.key")))
        self.assertEqual(site.request("GET", "/").status, 200)  # the static landing page

    def test_group_readable_configuration_is_refused(self):
        site = self.site
        os.chmod(site.conf, 0o640)
        try:
            if self.MODULE == "cgid":  # a process per request: this one reads the file again
                r = site.request("GET", "/healthz")
                self.assertEqual(r.status, 500, r)
                self.assertIn("open to its group or others", site.error_log())
            drain = site.drain()
            self.assertEqual(drain.returncode, 78, log_of(drain))
        finally:
            os.chmod(site.conf, 0o600)
        self.assertEqual(site.request("GET", "/healthz").status, 200)


class ModCgid(Journey, unittest.TestCase):
    MODULE = "cgid"


class ModFcgid(Journey, unittest.TestCase):
    MODULE = "fcgid"

    def test_processes_are_kept_between_requests(self):
        site = self.site
        for _ in range(5):
            self.assertEqual(site.request("GET", "/healthz").status, 200)
        out = subprocess.run(["pgrep", "-x", "-f", site.binary], capture_output=True, text=True).stdout.split()
        self.assertTrue(out, "no rostrum process kept by mod_fcgid")
        self.assertLessEqual(len(out), 2)  # FcgidMaxProcessesPerClass
        for pid in out:
            self.assertEqual(os.readlink(f"/proc/{pid}/fd/0").startswith("socket:"), True)


class CronDrain(unittest.TestCase):
    """`rostrum worker --drain` from cron: a lock so that runs never overlap, a time budget."""

    @classmethod
    def setUpClass(cls):
        cls.site = Site("cgid")

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()

    def setUp(self):
        email = f"c{secrets.token_hex(4)}@example.com"
        self.site.request("POST", "/api/v1/auth/register",
                          json_body={"email": email, "password": "correct horse battery", "name": "Cron"})
        self.token = self.site.request("POST", "/api/v1/auth/login",
                                       json_body={"email": email, "password": "correct horse battery"}).json()["access_token"]

    def upload(self, path):
        r = self.site.request("POST", "/api/v1/sessions", body=read(path), content_type="audio/wav", token=self.token)
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def status(self, sid):
        return self.site.request("GET", f"/api/v1/sessions/{sid}", token=self.token).json()["status"]

    def wait_claim(self, p):
        """The pid of the decoder that claimed a job in run p (from its log line)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and p.poll() is None:
            m = re.search(r"claimed by [^:\s]+:(\d+):\d+", log_of(p))
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        self.fail("no job claimed:\n" + log_of(p))

    def test_a_second_drain_exits_at_once_while_one_runs(self):
        site = self.site
        sid = self.upload(RECORDING)
        first = site.drain(wait=False)
        decoder = None
        try:
            decoder = self.wait_claim(first)
            os.kill(decoder, signal.SIGSTOP)  # the first run is certainly mid-job meanwhile
            t0 = time.monotonic()
            second = site.drain()
            took = time.monotonic() - t0
            self.assertEqual(second.returncode, 0, log_of(second))
            self.assertIn("another worker --drain holds", log_of(second))
            self.assertNotIn("claimed by", log_of(second))
            self.assertLess(took, 10, log_of(second))
            self.assertIsNone(first.poll(), log_of(first))
            os.kill(decoder, signal.SIGCONT)
            self.assertEqual(first.wait(JOB_S), 0, log_of(first))
        finally:
            if decoder:
                try:
                    os.kill(decoder, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            if first.poll() is None:
                first.kill()
                first.wait()
        self.assertEqual(self.status(sid), "done")
        # The lock went with the first run: the next one runs (and finds nothing to do).
        third = site.drain()
        self.assertEqual(third.returncode, 0, log_of(third))
        self.assertNotIn("another worker --drain holds", log_of(third))
        self.assertIn("worker drained the queue", log_of(third))

    def test_budget_stops_claiming_and_finishes_the_job_in_hand(self):
        site = self.site
        first, second = self.upload(RECORDING), self.upload(SHORT)
        # A budget of 0: nothing is claimed at all.
        p = site.drain(ROSTRUM_WORKER_DRAIN_BUDGET_S=0)
        self.assertEqual(p.returncode, 0, log_of(p))
        self.assertIn("time budget (worker.drain_budget_s = 0 s) is spent", log_of(p))
        self.assertNotIn("claimed by", log_of(p))
        self.assertEqual((self.status(first), self.status(second)), ("queued", "queued"))
        # A budget that runs out while the first job is in hand (its decoder held stopped past
        # it): that job is finished, the second is left for the next run.
        budget = 15
        t0 = time.monotonic()
        p = site.drain(wait=False, ROSTRUM_WORKER_DRAIN_BUDGET_S=budget)
        decoder = self.wait_claim(p)
        os.kill(decoder, signal.SIGSTOP)
        try:
            time.sleep(max(0.0, t0 + budget + 1 - time.monotonic()))  # the budget is the subject
        finally:
            os.kill(decoder, signal.SIGCONT)
        self.assertEqual(p.wait(JOB_S), 0, log_of(p))
        self.assertEqual(log_of(p).count("claimed by"), 1, log_of(p))
        self.assertIn("is spent; claiming no more jobs", log_of(p))
        self.assertEqual((self.status(first), self.status(second)), ("done", "queued"))
        p = site.drain()
        self.assertEqual(p.returncode, 0, log_of(p))
        self.assertEqual(self.status(second), "done")


if __name__ == "__main__":
    unittest.main()
