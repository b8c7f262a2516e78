"""A real Rostrum stack for a test: its own database in the shared throwaway cluster
(ROSTRUM_TEST_PG, from pg_up.sh), a temp data directory, nginx on a free loopback port and
`rostrum api`, started by scripts/stack.sh exactly as `make run` starts them.

As in production, the daemons log in as the application role (rostrum_app: DML only) and,
under root, run as the service user (rostrum); `sql()` is psql as the cluster's superuser.

languages=("en-test",) gives the stack a model root of its own (<dir>/models) where each of those
names is one more directory for the installed en-us model (a symlink): the same model under
another language name, so that a test can tell which language's model a daemon loaded.

Knobs: ROSTRUM_TEST_KEEP=1 keeps the temp directory and database; ROSTRUM_TEST_CATLOG=1
prints the API and nginx logs when a stack stops.
"""
import http.client
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

SOURCE = os.environ.get("ROSTRUM_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BIN = os.environ.get("ROSTRUM_BIN", os.path.join(SOURCE, "build/rostrum"))
PG = os.environ.get("ROSTRUM_TEST_PG", "/tmp/rostrum-test-pg")
TMP = os.environ.get("ROSTRUM_TEST_TMP", tempfile.gettempdir())
PSQL = "/usr/lib/postgresql/15/bin/psql"
MODELS = os.environ.get("ROSTRUM_TEST_MODELS", "/usr/share/pocketsphinx/model")
# The user that api, worker and live switch to when started as root (service.user).
SERVICE_USER = os.environ.get("ROSTRUM_SERVICE_USER", "rostrum")


def give_to_service_user(path):
    """Under root, path becomes the service user's (what a daemon started as root creates)."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam(SERVICE_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def service_dir(prefix, *subdirs):
    """A temp directory (and subdirectories) for a daemon a test starts itself, prepared as
    stack.sh prepares a data dir: under root the daemon runs as the service user, so the
    directory is that user's (0750), else it cannot create its socket or files there."""
    d = tempfile.mkdtemp(prefix=prefix, dir=TMP)
    for path in (d, *(os.path.join(d, s) for s in subdirs)):
        os.makedirs(path, exist_ok=True)
        give_to_service_user(path)
        os.chmod(path, 0o750)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value), names lower-case
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.header('content-type')} {self.body[:300]!r}>"


class Stack:
    def __init__(self, name, embedded_pg=False, languages=(), **env):
        os.makedirs(TMP, exist_ok=True)
        self.name = name
        self.db = f"t_{name}_{secrets.token_hex(4)}"
        self.dir = tempfile.mkdtemp(prefix=f"rostrum-{name}-", dir=TMP)
        # Crossed, not listed, by the users that need a way in (postgres, the service user,
        # nginx's www-data); stack.sh makes the same choice for a data dir of its own.
        os.chmod(self.dir, 0o711)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.embedded_pg = embedded_pg
        if not embedded_pg:
            subprocess.run([os.path.join(SOURCE, "scripts/pg.sh"), "start", PG, self.db], check=True)
        self.env = dict(os.environ)
        self.env.update({
            "ROSTRUM_DATA_DIR": self.dir,
            "ROSTRUM_PORT": str(self.port),
            "ROSTRUM_BIN": BIN,
            "ROSTRUM_AUTH_RATE": "1000r/s",
            "ROSTRUM_AUTH_BURST": "1000",
            # nginx's per-address upload and WebSocket limits: out of the way unless a test
            # sets them (test_edge.py does).
            "ROSTRUM_UPLOAD_RATE": "1000r/s", "ROSTRUM_UPLOAD_BURST": "1000", "ROSTRUM_UPLOAD_CONN": "1000",
            "ROSTRUM_WS_RATE": "1000r/s", "ROSTRUM_WS_BURST": "1000", "ROSTRUM_WS_CONN": "10000",
            "ROSTRUM_API_WORKERS": "2",
            "ROSTRUM_NGINX_WORKERS": "1",
            "ROSTRUM_AUTH_COOKIE_SECURE": "false",
        })
        if not embedded_pg:  # else stack.sh runs a private cluster in <dir>/pg (restartable)
            self.env["ROSTRUM_DB_URL"] = f"host={PG}/run dbname={self.db}"
        if languages:
            self.env["ROSTRUM_SPEECH_MODEL_ROOT"] = self.model_root(languages)
        self.env.update({k: str(v) for k, v in env.items()})
        self.script("up")

    def model_root(self, languages):
        """<dir>/models: en-us, and each of `languages` as another name for the en-us model."""
        root = os.path.join(self.dir, "models")
        os.makedirs(root)
        os.chmod(root, 0o755)  # the daemons, as the service user, list it
        for lang in ("en-us", *languages):
            os.symlink(os.path.join(MODELS, "en-us"), os.path.join(root, lang))
        return root

    def script(self, *args, check=True):
        r = subprocess.run([os.path.join(SOURCE, "scripts/stack.sh"), *args], env=self.env,
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"stack.sh {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}\n{self.logs()}")
        return r

    def stop(self):
        if os.environ.get("ROSTRUM_TEST_CATLOG") == "1":
            print(self.logs())
        self.script("down", check=False)
        if os.environ.get("ROSTRUM_TEST_KEEP") != "1":
            subprocess.run([PSQL, "-h", f"{PG}/run", "-d", "postgres", "-qc",
                            f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'], capture_output=True)
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- HTTP -------------------------------------------------------------------------
    def request(self, method, path, body=None, json_body=None, token=None, headers=None,
                content_type=None, timeout=30):
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
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def raw(self, data, timeout=10):
        """Sends raw bytes; returns the raw response (for framing tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
            except socket.timeout:
                pass
            return b"".join(chunks)

    # --- accounts -----------------------------------------------------------------------
    def register(self, email=None, password="correct horse battery", name="Test User"):
        email = email or f"user-{secrets.token_hex(6)}@example.com"
        r = self.post("/api/v1/auth/register", {"email": email, "password": password, "name": name})
        assert r.status == 201, r
        return r.json(), email, password

    def login(self, email, password="correct horse battery"):
        r = self.post("/api/v1/auth/login", {"email": email, "password": password})
        assert r.status == 200, r
        return r.json()

    def new_user(self, **kw):
        """Registers and logs in; returns (user, access_token, refresh_token)."""
        user, email, password = self.register(**kw)
        pair = self.login(email, password)
        return user, pair["access_token"], pair["refresh_token"]

    # --- database and logs ---------------------------------------------------------------
    def sql(self, query):
        host, db = (f"{self.dir}/pg/run", "rostrum") if self.embedded_pg else (f"{PG}/run", self.db)
        r = subprocess.run([PSQL, "-h", host, "-d", db, "-AtXq", "-F", "\t", "-c", query],
                           capture_output=True, text=True, check=True)
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def fingerprint(self):
        """Row count and md5 of the ordered rows of every table, in one psql call: equal before
        and after a refused request. Left out: schema_migrations, workers (the worker's
        heartbeat moves its seen_at every 15 s on its own), and auth_failures (a refused login
        is counted there on purpose: the per-account back-off)."""
        if not getattr(self, "_tables", None):
            self._tables = [t for (t,) in self.sql(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                "AND tablename NOT IN ('schema_migrations', 'workers', 'auth_failures') ORDER BY 1")]
        q = " UNION ALL ".join(
            f"SELECT '{t}', count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {t} x"
            for t in self._tables)
        return {t: [c, m] for t, c, m in self.sql(q)}

    def log_text(self, *names):
        out = []
        for rel in names or ("log/api.log", "nginx/logs/error.log", "nginx/logs/access.log"):
            p = os.path.join(self.dir, rel)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f.read())
        return "\n".join(out)

    def logs(self):
        return self.log_text()

    def api_master_pid(self):
        with open(os.path.join(self.dir, "run/api.pid")) as f:
            return int(f.read())

    def worker_pids(self):
        master = self.api_master_pid()
        r = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        return [int(p) for p in r.stdout.split()]

    # --- the job worker (`rostrum worker`: a master and one process per decoder) ---------
    def job_worker_pid(self):
        with open(os.path.join(self.dir, "run/worker.pid")) as f:
            return int(f.read())

    def job_worker_pids(self):
        """The worker's master first, then its decoder processes."""
        master = self.job_worker_pid()
        r = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        return [master] + [int(p) for p in r.stdout.split()]

    def ensure_job_worker(self):
        """A dead `rostrum worker` leaves every job queued forever: say so at once instead of
        timing out, and start it again (stack.sh up starts only what is missing) so that the
        following tests still have a worker."""
        try:
            os.kill(self.job_worker_pid(), 0)
            return
        except ProcessLookupError:
            pass
        tail = self.log_text("log/worker.log").splitlines()[-15:]
        self.script("up")
        raise AssertionError("rostrum worker died (no log line says why: a crash?); restarted it. "
                             "worker.log tail:\n" + "\n".join(tail))

    def quiesce(self, timeout=120):
        """No job queued or running: the database only changes when a request changes it."""
        def idle():
            if self.sql("SELECT count(*) FROM jobs WHERE status IN ('queued','running')") == [["0"]]:
                return True
            self.ensure_job_worker()
            return False
        self.wait_until(idle, timeout, what="the job queue to drain")

    def audio_files(self):
        """The stored audio files (audio/ without its tmp/ folder)."""
        return sorted(n for n in os.listdir(os.path.join(self.dir, "audio")) if n != "tmp")

    def wait_until(self, predicate, timeout=30, what="condition"):
        """Polls predicate() (no fixed sleeps as synchronisation); raises after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")
