"""The server install (issue 16, "Server"): `cmake --install` lays out FHS paths, the systemd
units pass `systemd-analyze verify` and a security exposure bound, the API takes its socket
from systemd (socket activation), and the whole stack passes the smoke journey under the units'
restrictions (tests/harness/sandboxed_rostrum.sh says which ones hold without systemd as PID 1).
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack  # noqa: E402

SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.abspath(os.path.join(SOURCE, "..", "shared", "data", "speech")))
CLIP = os.path.join(SPEECH, "read", "ps_goforward.wav")
SERVICES = ("rostrum-api.service", "rostrum-worker.service", "rostrum-live.service")
UNITS = SERVICES + ("rostrum-api.socket",)
# systemd-analyze security's overall exposure (0 safest .. 10): "OK" is below 2.0. The units
# measure 1.5-1.6 on systemd 252; a change that loosens the sandbox shows here.
MAX_EXPOSURE = 2.0
PREFIX = None


def setUpModule():
    global PREFIX
    PREFIX = tempfile.mkdtemp(prefix="rostrum-install-")
    build = os.path.dirname(BIN)
    r = subprocess.run(["cmake", "--install", build, "--prefix", PREFIX],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cmake --install failed:\n{r.stdout}\n{r.stderr}")


def tearDownModule():
    shutil.rmtree(PREFIX, ignore_errors=True)


def unit_path(name):
    return os.path.join(PREFIX, "lib", "systemd", "system", name)


class Layout(unittest.TestCase):
    def test_fhs_paths(self):
        for rel in ("bin/rostrum", "share/rostrum/web/index.html", "share/rostrum/nginx/rostrum.conf.in",
                    "share/rostrum/scripts/stack.sh", "share/doc/rostrum/README.md",
                    "lib/tmpfiles.d/rostrum.conf", "lib/sysusers.d/rostrum.conf",
                    "etc/rostrum/rostrum.env", *(f"lib/systemd/system/{u}" for u in UNITS)):
            self.assertTrue(os.path.exists(os.path.join(PREFIX, rel)), rel)
        self.assertTrue(os.access(os.path.join(PREFIX, "bin/rostrum"), os.X_OK))
        # Test-only packages stay out of what nginx serves.
        self.assertFalse(os.path.exists(os.path.join(PREFIX, "share/rostrum/web/node_modules/playwright-core")))

    def test_environment_file_is_not_world_readable(self):
        mode = stat.S_IMODE(os.stat(os.path.join(PREFIX, "etc/rostrum/rostrum.env")).st_mode)
        self.assertEqual(mode & 0o007, 0, oct(mode))

    def test_units_carry_this_prefix(self):
        for u in SERVICES:
            with open(unit_path(u)) as f:
                text = f.read()
            self.assertIn(f"ExecStart={PREFIX}/bin/rostrum ", text)
            self.assertIn(f"EnvironmentFile={PREFIX}/etc/rostrum/rostrum.env", text)
            self.assertNotRegex(text, r"@[A-Z_]+@", "an unconfigured @VARIABLE@ is left")


class Units(unittest.TestCase):
    def test_systemd_analyze_verify(self):
        r = subprocess.run(["systemd-analyze", "verify", *(unit_path(u) for u in UNITS)],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "verify warns")

    def test_security_exposure(self):
        scores = {}
        for u in SERVICES:
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit_path(u)],
                               capture_output=True, text=True)
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            scores[u] = float(m.group(1))
        print("systemd-analyze security:", json.dumps(scores), file=sys.stderr)
        for u, score in scores.items():
            self.assertLessEqual(score, MAX_EXPOSURE, f"{u}: {score}")

    def test_every_service_has_the_sandbox(self):
        for u in SERVICES:
            with open(unit_path(u)) as f:
                text = f.read()
            for line in ("User=rostrum", "ProtectSystem=strict", "ReadWritePaths=/var/lib/rostrum",
                         "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                         "SystemCallFilter=@system-service", "Restart=on-failure"):
                self.assertIn(line, text, f"{u}: {line!r}")
        with open(unit_path("rostrum-api.service")) as f:
            self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", f.read())


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Package(unittest.TestCase):
    """The Debian package of this build (make deb: CPack's DEB generator over the install
    rules): its control data, its files, its maintainer scripts, and lintian."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rostrum-deb-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        build = os.path.dirname(BIN)
        r = subprocess.run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"),
                            "-B", cls.dir], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"cpack failed:\n{r.stdout}\n{r.stderr}")
        debs = [f for f in os.listdir(cls.dir) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.dir, debs[0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], capture_output=True, text=True,
                              check=True).stdout.strip()

    def test_control(self):
        self.assertEqual(self.field("Package"), "rostrum")
        depends = self.field("Depends")
        for lib in ("libpq5", "libfcgi0ldbl", "libsodium23", "libpocketsphinx3", "pocketsphinx-en-us", "adduser"):
            self.assertIn(lib, depends)
        self.assertIn("postgresql", self.field("Recommends"))

    def test_contents_and_conffiles(self):
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True, check=True).stdout
        for path in ("./usr/bin/rostrum", "./usr/lib/systemd/system/rostrum-api.socket",
                     "./usr/lib/systemd/system/rostrum-api.service", "./etc/rostrum/rostrum.env",
                     "./usr/share/doc/rostrum/copyright", "./usr/share/doc/rostrum/changelog.Debian.gz",
                     "./usr/share/rostrum/scripts/stack.sh"):
            self.assertIn(path, listing)
        x = os.path.join(self.dir, "x")
        subprocess.run(["dpkg-deb", "-x", self.deb, x], check=True)
        subprocess.run(["dpkg-deb", "-e", self.deb, os.path.join(x, "DEBIAN")], check=True)
        with open(os.path.join(x, "DEBIAN", "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/rostrum/rostrum.env"])
        with open(os.path.join(x, "usr/lib/systemd/system/rostrum-api.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/bin/rostrum api", unit)
        self.assertIn("EnvironmentFile=/etc/rostrum/rostrum.env", unit)
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(x, "DEBIAN", script)
            self.assertTrue(os.access(path, os.X_OK), script)
            subprocess.run(["sh", "-n", path], check=True)
            with open(path) as f:
                text = f.read()
            # The package starts nothing an operator did not ask for.
            self.assertNotRegex(text, r"systemctl (enable|start|restart)", script)
        # Stripped: no debug sections in what is installed.
        sections = subprocess.run(["objdump", "-h", os.path.join(x, "usr/bin/rostrum")],
                                  capture_output=True, text=True, check=True).stdout
        self.assertNotIn(".debug_info", sections)

    def test_lintian_finds_no_error(self):
        r = subprocess.run(["lintian", "--tag-display-limit", "0", self.deb], capture_output=True, text=True)
        errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], r.stdout)
        print("lintian:", r.stdout.strip(), file=sys.stderr)


def fcgi_get(path, uri):
    """GET uri over the FastCGI socket at path: the whole answer (headers and body)."""
    def record(rtype, content=b""):
        return bytes([1, rtype, 0, 1, len(content) >> 8, len(content) & 255, 0, 0]) + content

    def nv(k, v):
        return bytes([len(k), len(v)]) + k + v
    params = {b"REQUEST_METHOD": b"GET", b"DOCUMENT_URI": uri, b"REQUEST_URI": uri,
              b"REMOTE_ADDR": b"127.0.0.1", b"HTTP_HOST": b"localhost", b"SERVER_NAME": b"localhost",
              b"REQUEST_ID": b"socket-activation"}
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    s.sendall(record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
              record(4, b"".join(nv(k, v) for k, v in params.items())) + record(4) + record(5))
    out, buf = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            n, pad = (buf[4] << 8) | buf[5], buf[6]
            if len(buf) < 8 + n + pad:
                break
            if buf[1] == 6:  # FCGI_STDOUT
                out += buf[8:8 + n]
            if buf[1] == 3:  # FCGI_END_REQUEST
                s.close()
                return out
            buf = buf[8 + n + pad:]
    s.close()
    return out


def activate(listen_args, env):
    """systemd-socket-activate passes only the variables named with -E, like a unit's
    Environment=: the command line that gives the pool the test's configuration."""
    passed = [f"-E{k}={v}" for k, v in env.items() if k.startswith("ROSTRUM_")]
    return ["systemd-socket-activate", *listen_args, *passed, BIN, "api"]


class SocketActivation(unittest.TestCase):
    """`rostrum api` serves the listener systemd passes (rostrum-api.socket) and leaves its
    path to systemd on exit; systemd-socket-activate passes it the way systemd does."""

    def test_pool_serves_the_inherited_socket(self):
        d = tempfile.mkdtemp(prefix="rostrum-activate-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        try:
            sock = os.path.join(d, "passed.sock")
            env = dict(os.environ, ROSTRUM_DATA_DIR=d, ROSTRUM_API_WORKERS="1",
                       ROSTRUM_API_SOCKET=os.path.join(d, "unused.sock"),
                       ROSTRUM_DB_URL=f"host={os.environ['ROSTRUM_TEST_PG']}/run dbname=postgres")
            if os.getuid() == 0:
                shutil.chown(d, "rostrum", "rostrum")
            p = subprocess.Popen(activate(["-l", sock], env), stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            try:
                # systemd-socket-activate listens, and execs the pool at the first connection
                # (as systemd does for Accept=no), which waits in the backlog until a worker
                # accepts it.
                wait_for(lambda: os.path.exists(sock) or p.poll() is not None, "the passed socket")
                self.assertIsNone(p.poll(), "rostrum api exited")
                answer = fcgi_get(sock, b"/healthz")
                self.assertRegex(answer.split(b"\r\n\r\n")[0], rb"(?i)content-type")
                self.assertNotRegex(answer, rb"^Status: [45]")
                self.assertFalse(os.path.exists(os.path.join(d, "unused.sock")),
                                 "the pool made a socket of its own")
            finally:
                p.send_signal(signal.SIGTERM)
                out, _ = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, out)
            self.assertIn("listening on the socket systemd passed", out)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_two_passed_sockets_are_refused(self):
        d = tempfile.mkdtemp(prefix="rostrum-activate-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        try:
            env = dict(os.environ, ROSTRUM_DATA_DIR=d,
                       ROSTRUM_DB_URL=f"host={os.environ['ROSTRUM_TEST_PG']}/run dbname=postgres")
            if os.getuid() == 0:
                shutil.chown(d, "rostrum", "rostrum")
            a = os.path.join(d, "a.sock")
            p = subprocess.Popen(activate(["-l", a, "-l", os.path.join(d, "b.sock")], env),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                wait_for(lambda: os.path.exists(a), "the first socket")
                with socket.socket(socket.AF_UNIX) as c:  # the first connection starts it
                    c.connect(a)
                    out, _ = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("LISTEN_FDS=2", out)
        finally:
            shutil.rmtree(d, ignore_errors=True)


@unittest.skipUnless(os.getuid() == 0, "the sandbox switches to the service user: needs root")
class SandboxedStack(unittest.TestCase):
    """The smoke journey with every daemon as the units run it: the service user, no
    capabilities, no_new_privs, / read-only but the data directory."""

    @classmethod
    def setUpClass(cls):
        cls.S = Stack("sandboxed", ROSTRUM_BIN=os.path.join(SOURCE, "tests/harness/sandboxed_rostrum.sh"),
                      ROSTRUM_REAL_BIN=BIN)

    @classmethod
    def tearDownClass(cls):
        cls.S.stop()

    def test_daemons_run_confined(self):
        pids = [self.S.api_master_pid(), self.S.job_worker_pid()]
        for pid in pids:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            self.assertRegex(status, r"NoNewPrivs:\s+1")
            self.assertRegex(status, r"CapBnd:\s+0+\n")
            uid = int(re.search(r"Uid:\s+(\d+)", status).group(1))
            self.assertNotEqual(uid, 0)
            with open(f"/proc/{pid}/mountinfo") as f:
                root = [line.split() for line in f if line.split()[4] == "/"]
            self.assertTrue(root, "no / in the mount table")
            self.assertTrue(root[-1][5].startswith("ro"), root[-1])

    def test_upload_to_report_and_audio_download(self):
        S = self.S
        _, token, _ = S.new_user()
        with open(CLIP, "rb") as f:
            audio = f.read()
        r = S.request("POST", "/api/v1/sessions?title=confined", body=audio, content_type="audio/wav",
                      token=token, timeout=60)
        self.assertEqual(r.status, 202, r)
        sid = r.json()["id"]
        S.wait_until(lambda: S.get(f"/api/v1/sessions/{sid}", token=token).json()["status"] in ("done", "failed"),
                     timeout=120, what="the session to finish\n" + S.logs()[-3000:])
        body = S.get(f"/api/v1/sessions/{sid}", token=token).json()
        self.assertEqual(body["status"], "done", body)
        self.assertGreater(len(body["transcript"]["words"]), 0)
        self.assertIn("analysis", body)
        r = S.get(f"/api/v1/sessions/{sid}/audio", token=token, headers={"Range": "bytes=0-99"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, audio[:100])


if __name__ == "__main__":
    unittest.main()
