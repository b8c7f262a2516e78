"""The HTTP edge, as an attacker on the web or on the same host sees it (issue 9 items 10, 11, 14,
16, 18, 21, 22): the Host allowlist (421), login CSRF on cookie-setting routes, the token checked
before an upload body is read, upload/WebSocket limits, security headers on every response
nginx makes, control bytes in logged paths, npm files under web/, CGI mode's audio downloads,
the production template's defaults.

One stack (low upload/WebSocket limits; each limit test uses its own loopback source address, so
buckets never leak between tests), plus one short-lived stack with the production environment
(rostrum.env from `stack.sh render-production`) for auth.first_user_admin=false.
"""
import http.client
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import BIN, SOURCE, Response, Stack  # noqa: E402

S = None
API = "/api/v1"
PASSWORD = "correct horse battery"
ADMIN = {}
REBIND = {}
CASES = []  # (item, what) for the report line


def setUpModule():
    global S
    S = Stack("edge", ROSTRUM_UPLOAD_RATE="1r/m", ROSTRUM_UPLOAD_BURST="4", ROSTRUM_UPLOAD_CONN="2",
              ROSTRUM_WS_RATE="1r/m", ROSTRUM_WS_BURST="2")
    # DNS rebinding on a fresh install: a page at attacker.example (resolving to 127.0.0.1)
    # tries to register the first account, the admin. It never reaches the API.
    # HostAllowlist.test_rebinding_page_cannot_register_the_admin checks what happened.
    REBIND["response"] = request("POST", f"{API}/auth/register",
                                 {"email": "rebind@x.io", "password": PASSWORD, "name": "R"},
                                 headers={"Host": f"attacker.example:{S.port}"})
    REBIND["users"] = S.sql("SELECT email, role FROM users")
    r = request("POST", f"{API}/auth/register", {"email": "admin@x.io", "password": PASSWORD, "name": "Admin"})
    assert r.status == 201, r
    REBIND["admin_role"] = r.json()["role"]
    ADMIN.update(S.login("admin@x.io", PASSWORD), email="admin@x.io")


def tearDownModule():
    S.stop()


def request(method, path, json_body=None, body=None, headers=None, token=None, content_type=None,
            source="127.0.0.1", timeout=30):
    """One request from a chosen loopback source address; Host is 127.0.0.1:<port> unless given."""
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
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=timeout, source_address=(source, 0))
    try:
        skip_host = "Host" in hdrs
        conn.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    finally:
        conn.close()


def wav(seconds=0.5, rate=16000):
    n = int(seconds * rate)
    data = b"\0\0" * n
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" +
            struct.pack("<I", len(data)) + data)


def upload(token, source="127.0.0.1", headers=None):
    return request("POST", f"{API}/sessions", body=wav(), token=token, content_type="audio/wav",
                   source=source, headers=headers)


def new_user():
    user, access, refresh = S.new_user()
    return user, access, refresh


def raw_exchange(source, head, body_bytes, wait_s):
    """Sends head + body_bytes (not the whole declared body) and returns what comes back within
    wait_s (b"" if nothing)."""
    with socket.create_connection(("127.0.0.1", S.port), timeout=wait_s, source_address=(source, 0)) as s:
        s.sendall(head)
        try:
            s.sendall(body_bytes)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx answered and closed: what matters is the answer
        deadline = time.monotonic() + wait_s
        got = b""
        while b"\r\n\r\n" not in got and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        return got


def security_headers_of(tc, r, what):
    for name, value in (("x-frame-options", "DENY"), ("referrer-policy", "no-referrer"),
                        ("x-content-type-options", "nosniff")):
        tc.assertEqual(r.header(name), value, f"{what}: {name} missing: {r.headers}")
    tc.assertIn("default-src 'self'", r.header("content-security-policy") or "", f"{what}: {r.headers}")
    tc.assertIn("max-age=", r.header("strict-transport-security") or "", f"{what}: {r.headers}")


def cgi(path, method="GET", headers=None, query="", env=None):
    """The binary as a CGI server starts it (GATEWAY_INTERFACE set): one request, one response on
    stdout. Returns (status, headers dict lower-case, body bytes)."""
    e = dict(S.env)
    e.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "SCRIPT_NAME": "",
              "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1"})
    for k, v in (headers or {}).items():
        e["HTTP_" + k.upper().replace("-", "_")] = v
    e.update(env or {})
    p = subprocess.run([BIN], env=e, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


class HostAllowlist(ApiCase):
    """Item 14: any Host outside site.hosts gets 421 problem+json from nginx and from the API."""

    def test_rebinding_page_cannot_register_the_admin(self):
        self.assertProblem(REBIND["response"], 421)
        self.assertEqual(REBIND["users"], [])
        self.assertEqual(REBIND["admin_role"], "admin")  # the embedded default keeps API.md's rule
        CASES.append(("14", "rebinding register of the first account 421"))

    def test_other_hosts_421_everywhere_nothing_changes(self):
        before = S.fingerprint()
        for method, path in (("GET", "/"), ("GET", "/healthz"), ("GET", f"{API}/auth/me"),
                             ("POST", f"{API}/auth/token?set_cookie=true"), ("GET", "/ws/events"),
                             ("GET", "/docs/"), ("POST", f"{API}/sessions")):
            for host in ("attacker.example", f"attacker.example:{S.port}", "127.0.0.1.nip.io", "localhost.evil"):
                r = request(method, path, body=b"username=admin%40x.io&password=x" if method == "POST" else None,
                            content_type="application/x-www-form-urlencoded" if method == "POST" else None,
                            headers={"Host": host})
                body = self.assertProblem(r, 421, f"{method} {path} Host {host}")
                self.assertEqual(body["type"], "/problems/misdirected")
                self.assertEqual(r.header_all("set-cookie"), [])
                security_headers_of(self, r, "421")
        self.assertEqual(S.fingerprint(), before)
        CASES.append(("14", "other Host 421 (nginx)"))

    def test_loopback_names_with_and_without_port(self):
        for host in ("127.0.0.1", f"127.0.0.1:{S.port}", "localhost", f"localhost:{S.port}", "LocalHost",
                     "[::1]", f"[::1]:{S.port}"):
            r = request("GET", "/healthz", headers={"Host": host})
            self.assertEqual(r.status, 200, f"Host {host}: {r}")

    def test_the_api_itself_refuses_other_hosts(self):
        """CGI mode (and any front that does not check Host): the API's own dispatch answers 421."""
        status, hdrs, body = cgi("/healthz", headers={"Host": "attacker.example"})
        self.assertEqual(status, 421, body)
        self.assertTrue(hdrs["content-type"].startswith("application/problem+json"), hdrs)
        self.assertEqual(json.loads(body)["status"], 421)
        before = S.sql("SELECT count(*) FROM users")
        status, _, _ = cgi(f"{API}/auth/register", method="POST", headers={"Host": "attacker.example"})
        self.assertEqual(status, 421)
        self.assertEqual(S.sql("SELECT count(*) FROM users"), before)
        status, _, _ = cgi("/healthz", headers={"Host": "localhost:8080"})
        self.assertEqual(status, 200)
        CASES.append(("14", "other Host 421 (API, CGI mode)"))


class LoginCsrf(ApiCase):
    """Item 10: cookie-setting routes refuse cross-site browsers; same-origin and non-browsers work."""

    def form_login(self, headers):
        return request("POST", f"{API}/auth/token?set_cookie=true", headers=headers,
                       body=f"username={ADMIN['email']}&password={PASSWORD.replace(' ', '+')}",
                       content_type="application/x-www-form-urlencoded")

    def test_cross_site_form_sets_nothing(self):
        before = S.sql("SELECT count(*) FROM refresh_tokens")
        for headers in ({"Origin": "https://attacker.example"},
                        {"Origin": "null"},
                        {"Origin": f"http://attacker.example:{S.port}"},
                        {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "cross-site", "Origin": f"http://127.0.0.1:{S.port}"}):
            r = self.form_login(headers)
            self.assertProblem(r, 403, str(headers))
            self.assertEqual(r.header_all("set-cookie"), [], headers)
        cross = {"Origin": "https://attacker.example"}
        r = request("POST", f"{API}/auth/login?set_cookie=true", {"email": ADMIN["email"], "password": PASSWORD},
                    headers=cross)
        self.assertProblem(r, 403, "login")
        r = request("POST", f"{API}/auth/refresh?set_cookie=true", {"refresh_token": ADMIN["refresh_token"]},
                    headers=cross)
        self.assertProblem(r, 403, "refresh")
        self.assertEqual(r.header_all("set-cookie"), [])
        r = request("POST", f"{API}/auth/logout", headers=cross)
        self.assertProblem(r, 403, "logout")
        self.assertEqual(S.sql("SELECT count(*) FROM refresh_tokens"), before)
        CASES.append(("10", "cross-site cookie login 403"))

    def test_same_origin_and_non_browsers_get_cookies(self):
        for headers in ({}, {"Origin": f"http://127.0.0.1:{S.port}", "Sec-Fetch-Site": "same-origin"},
                        {"Origin": f"http://localhost:{S.port}"}, {"Sec-Fetch-Site": "none"}):
            r = self.form_login(headers)
            self.assertEqual(r.status, 200, f"{headers}: {r}")
            names = sorted(c.split("=")[0] for c in r.header_all("set-cookie"))
            self.assertEqual(names, ["rostrum_access", "rostrum_csrf", "rostrum_refresh"], headers)
        # Without set_cookie nothing is set, and Origin does not matter (no cookie to plant).
        r = request("POST", f"{API}/auth/token", headers={"Origin": "https://attacker.example"},
                    body=f"username={ADMIN['email']}&password={PASSWORD.replace(' ', '+')}",
                    content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header_all("set-cookie"), [])


class UploadGate(ApiCase):
    """Item 11: the token is checked before nginx reads an upload body; limits per address."""

    def declare_100mib(self, source, auth=""):
        head = (f"POST {API}/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
                f"{auth}Content-Length: {100 << 20}\r\n\r\n").encode()
        t0 = time.monotonic()
        got = raw_exchange(source, head, b"\0" * (1 << 20), wait_s=5)
        return got, time.monotonic() - t0

    def test_anonymous_100_mib_upload_answered_401_at_once(self):
        for source, auth in (("127.0.0.70", ""), ("127.0.0.71", "Authorization: Bearer not.a.token\r\n"),
                             ("127.0.0.72", "Cookie: rostrum_access=forged\r\n")):
            got, took = self.declare_100mib(source, auth)
            self.assertTrue(got.startswith(b"HTTP/1.1 401 "), f"{auth!r}: no 401 after 1 MiB of 100 MiB "
                                                              f"({took:.1f} s): {got[:200]!r}")
            self.assertIn(b"application/problem+json", got)
            self.assertIn(b"WWW-Authenticate: Bearer", got)
            self.assertLess(took, 5)
        # nothing of those bodies was spooled to nginx's disk
        body_dir = os.path.join(S.dir, "nginx/tmp/body")
        S.wait_until(lambda: not any(os.scandir(body_dir)) if os.path.isdir(body_dir) else True, 10,
                     what="nginx's body temp files to go")
        CASES.append(("11", "anonymous 100 MiB upload 401 before the body"))

    def test_authenticated_uploads_still_work(self):
        _, token, _ = new_user()
        r = upload(token, source="127.0.0.73")
        self.assertEqual(r.status, 202, r)
        # cookie authentication passes the gate too (with its CSRF header)
        r = request("POST", f"{API}/auth/login?set_cookie=true", {"email": ADMIN["email"], "password": PASSWORD},
                    source="127.0.0.74")
        jar = {c.split(";")[0].split("=")[0]: c.split(";")[0].split("=", 1)[1] for c in r.header_all("set-cookie")}
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        r = upload(None, source="127.0.0.74", headers={"Cookie": cookie, "X-CSRF-Token": jar["rostrum_csrf"]})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(request("GET", f"{API}/sessions", token=token, source="127.0.0.73").status, 200)

    def test_upload_rate_per_address_429(self):
        statuses = [upload(None, source="127.0.0.75").status for _ in range(8)]
        self.assertIn(429, statuses, statuses)
        self.assertEqual(set(statuses), {401, 429}, statuses)
        r = upload(None, source="127.0.0.75")
        self.assertProblem(r, 429)
        self.assertTrue(r.header("retry-after"), r.headers)
        security_headers_of(self, r, "429")
        # another address is not affected; GET (the listing) is not counted
        self.assertEqual(upload(None, source="127.0.0.76").status, 401)
        self.assertEqual(request("GET", f"{API}/sessions", token=ADMIN["access_token"], source="127.0.0.75").status, 200)
        CASES.append(("11", "upload rate per address 429"))

    def test_concurrent_uploads_per_address_429(self):
        _, token, _ = new_user()
        head = (f"POST {API}/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {1 << 20}\r\n\r\n").encode()
        held = []
        try:
            for _ in range(2):  # two slow uploads in progress (ROSTRUM_UPLOAD_CONN=2)
                s = socket.create_connection(("127.0.0.1", S.port), timeout=10, source_address=("127.0.0.77", 0))
                s.sendall(head + b"\0" * 1000)
                held.append(s)

            def third_refused():
                return upload(token, source="127.0.0.77").status == 429
            S.wait_until(third_refused, 10, what="a third concurrent upload to be refused 429")
        finally:
            for s in held:
                s.close()
        CASES.append(("11", "concurrent uploads per address 429"))

    def test_websocket_upgrades_per_address_429(self):
        statuses = [request("GET", "/ws/events", source="127.0.0.78",
                            headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                     "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}).status
                    for _ in range(6)]
        self.assertIn(429, statuses, statuses)
        self.assertEqual(statuses[0], 401, statuses)  # under the limit: the daemon's own answer
        CASES.append(("11", "WebSocket upgrades per address 429"))


class SecurityHeaders(ApiCase):
    """Item 18: nginx's own pages and audio downloads carry the security headers."""

    def test_nginx_pages_and_audio_downloads(self):
        security_headers_of(self, request("GET", "/package.json"), "nginx 404")
        security_headers_of(self, request("GET", "/docs/nope.js"), "nginx 404 under /docs/")
        r = request("POST", f"{API}/auth/login", body=b"{" + b" " * (2 << 20) + b"}",
                    content_type="application/json")
        self.assertProblem(r, 413, "2 MiB JSON body")  # the problem page, not nginx's HTML
        security_headers_of(self, r, "413")
        r = request("GET", f"{API}/sessions", source="127.0.0.79")  # nginx's 401 (auth_request)
        self.assertProblem(r, 401)
        security_headers_of(self, r, "401")
        _, token, _ = new_user()
        sid = upload(token, source="127.0.0.80").json()["id"]
        r = request("GET", f"{API}/sessions/{sid}/audio", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "audio/wav")
        self.assertEqual(r.header("content-disposition"), "attachment")
        self.assertEqual(r.body, wav())
        security_headers_of(self, r, "audio download")
        CASES.append(("18", "security headers on 404/413/401/429/421/audio"))

    def test_every_block_with_add_header_includes_the_headers(self):
        """Structural: in both rendered configurations, any block that has an add_header of its
        own also includes rostrum_headers.conf (add_header is not inherited by such blocks), and
        the production site gets HSTS and CSP from it."""
        out = tempfile.mkdtemp(prefix="rostrum-prod-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        r = subprocess.run([os.path.join(SOURCE, "scripts/stack.sh"), "render-production", out],
                           env=dict(S.env, ROSTRUM_SERVER_NAME="speech.example.org"), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for conf in (os.path.join(out, "rostrum.conf"), os.path.join(out, "rostrum_locations.conf"),
                     os.path.join(S.dir, "nginx/nginx.conf"), os.path.join(S.dir, "nginx/rostrum_locations.conf")):
            with open(conf) as f:
                text = re.sub(r"#[^\n]*", "", f.read())
            for block in blocks(text):
                if re.search(r"^\s*add_header\s", block, re.M):
                    self.assertRegex(block, r"(?m)^\s*include\s+\S*rostrum_headers\.conf;",
                                     f"{conf}: a block adds headers without the security headers:\n{block[:400]}")
        with open(os.path.join(out, "rostrum_headers.conf")) as f:
            headers = f.read()
        self.assertIn("Strict-Transport-Security", headers)
        self.assertIn("Content-Security-Policy", headers)
        with open(os.path.join(out, "rostrum.conf")) as f:
            self.assertIn("include " + out + "/rostrum_locations.conf;", f.read())
        with open(os.path.join(out, "rostrum_locations.conf")) as f:
            self.assertIn("include " + out + "/rostrum_headers.conf;", f.read())
        # The production environment: no first-account admin; the server name is served.
        with open(os.path.join(out, "rostrum.env")) as f:
            env = f.read()
        self.assertIn("ROSTRUM_AUTH_FIRST_USER_ADMIN=false", env)
        self.assertRegex(env, r"ROSTRUM_SITE_HOSTS=\S*speech\.example\.org")
        with open(os.path.join(out, "rostrum_http.conf")) as f:
            self.assertIn("speech.example.org 1;", f.read())


def blocks(text):
    """The text of each {...} block, without its nested blocks."""
    out, stack = [], [[]]
    for ch in text:
        if ch == "{":
            stack.append([])
        elif ch == "}":
            out.append("".join(stack.pop()))
        else:
            stack[-1].append(ch)
    return out


class LogInjection(ApiCase):
    """Item 21: control bytes in a path never forge a line or reach a log raw."""

    def test_crlf_and_esc_in_path(self):
        forged = "2026-01-01T00:00:00.000Z%20ERROR%20api[1]%20forged"
        paths = [f"{API}/x%0d%0a{forged}", f"{API}/y%0a{forged}%1b[2J%1b]0;owned%07",
                 f"{API}/z%ff%c3%28%c2%9b%7f"]
        for p in paths:
            r = request("GET", p)
            self.assertProblem(r, 404, p)
        # Raw control bytes in the request line: nginx refuses them itself (400).
        got = raw_exchange("127.0.0.1", f"GET {API}/x\x1b[31m\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
                           b"", wait_s=5)
        self.assertTrue(got.startswith(b"HTTP/1.1 400 "), got[:100])
        S.wait_until(lambda: "forged" in S.log_text("log/api.log"), 10, what="the requests to be logged")
        line_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) \w+\[\d+\] ")
        for rel in ("log/api.log", "nginx/logs/access.log", "nginx/logs/error.log"):
            with open(os.path.join(S.dir, rel), "rb") as f:
                data = f.read()
            bad = sorted({b for b in data if (b < 0x20 and b not in (0x0a,)) or b == 0x7f})
            self.assertEqual(bad, [], f"{rel} holds raw control bytes {bad}")
            for line in data.decode("utf-8").splitlines():  # valid UTF-8 throughout
                self.assertFalse(line.startswith("2026-01-01T00:00:00.000Z"), f"{rel}: forged line {line!r}")
                if rel == "log/api.log":
                    self.assertRegex(line, line_re)
        self.assertIn("\\x0d\\x0a2026-01-01T00:00:00.000Z ERROR api[1] forged", S.log_text("log/api.log"))
        CASES.append(("21", "CR/LF/ESC in the path: no forged line, no raw byte"))


class WebFiles(ApiCase):
    """Item 22: web/ is also the npm project folder; only the app's own files are served."""

    def test_npm_files_and_dotfiles_404(self):
        for p in ("/package.json", "/package-lock.json", "/node_modules/swagger-ui-dist/package.json",
                  "/node_modules/", "/docs/package.json", "/.npmrc", "/.git/config", "/docs/../package.json",
                  "/%70ackage.json"):
            r = request("GET", p)
            self.assertProblem(r, (400, 404), p)
            self.assertNotIn(b'"name"', r.body, p)
        for p in ("/", "/docs/", "/docs/swagger-ui-bundle.js", "/docs/rostrum-docs.js", "/api/v1/openapi.json"):
            self.assertEqual(request("GET", p).status, 200, p)
        CASES.append(("22", "package*.json, node_modules, dotfiles 404"))

    def test_deps_refuses_libfcgi_without_the_cve_fix(self):
        """scripts/deps.sh with a stand-in dpkg-query: everything installed, libfcgi0ldbl at the
        given version."""
        fake = tempfile.mkdtemp(prefix="rostrum-deps-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        with open(os.path.join(fake, "dpkg-query"), "w") as f:
            f.write('#!/bin/sh\ncase "$*" in\n'
                    '*Version*libjwt0*) printf %s 1.10.2-1+deb12u1 ;;\n'
                    '*Version*libfcgi0ldbl*) printf %s "$FAKE_FCGI" ;;\n'
                    '*) printf "install ok installed" ;;\nesac\n')
        with open(os.path.join(fake, "apt-get"), "w") as f:  # never install anything from a test
            f.write("#!/bin/sh\necho fake apt-get called >&2\nexit 97\n")
        with open(os.path.join(fake, "npm"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        for name in ("dpkg-query", "apt-get", "npm"):
            os.chmod(os.path.join(fake, name), 0o755)
        for version, ok in (("2.4.2-2", False), ("2.4.2-1", False), ("2.4.2-2+deb12u1", True), ("2.4.5-1", True)):
            r = subprocess.run(["sh", os.path.join(SOURCE, "scripts/deps.sh")], capture_output=True, text=True,
                               env=dict(os.environ, PATH=fake + ":" + os.environ["PATH"], FAKE_FCGI=version))
            self.assertEqual(r.returncode == 0, ok, f"libfcgi0ldbl {version}: {r.returncode} {r.stderr}")
            if not ok:
                self.assertIn("CVE-2025-23016", r.stderr)
        CASES.append(("22", "deps.sh refuses libfcgi without the CVE-2025-23016 fix"))


class CgiMode(ApiCase):
    """Item 16: in CGI mode (no nginx to follow X-Accel-Redirect) the audio comes back itself."""

    @classmethod
    def setUpClass(cls):
        _, cls.token, _ = new_user()
        cls.sid = upload(cls.token, source="127.0.0.81").json()["id"]
        (name,) = [n for n in S.audio_files() if n.startswith(cls.sid)]
        with open(os.path.join(S.dir, "audio", name), "rb") as f:
            cls.stored = f.read()

    def test_download_returns_the_file(self):
        status, hdrs, body = cgi(f"{API}/sessions/{self.sid}/audio", headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(body, self.stored)
        self.assertEqual(hdrs["content-type"], "audio/wav")
        self.assertEqual(int(hdrs["content-length"]), len(self.stored))
        self.assertEqual(hdrs["content-disposition"], "attachment")
        self.assertNotIn("x-accel-redirect", hdrs)
        CASES.append(("16", "CGI audio download returns the file"))

    def test_ranges_head_and_ownership(self):
        auth = {"Authorization": f"Bearer {self.token}"}
        url = f"{API}/sessions/{self.sid}/audio"
        status, hdrs, body = cgi(url, headers=dict(auth, Range="bytes=10-19"))
        self.assertEqual((status, body), (206, self.stored[10:20]))
        self.assertEqual(hdrs["content-range"], f"bytes 10-19/{len(self.stored)}")
        status, _, body = cgi(url, headers=dict(auth, Range="bytes=-4"))
        self.assertEqual((status, body), (206, self.stored[-4:]))
        status, hdrs, body = cgi(url, headers=dict(auth, Range=f"bytes={len(self.stored)}-"))
        self.assertEqual(status, 416, body)
        self.assertEqual(hdrs["content-range"], f"bytes */{len(self.stored)}")
        status, hdrs, body = cgi(url, method="HEAD", headers=auth)
        self.assertEqual((status, body, int(hdrs["content-length"])), (200, b"", len(self.stored)))
        _, other, _ = new_user()
        status, _, body = cgi(url, headers={"Authorization": f"Bearer {other}"})
        self.assertEqual(status, 404, body)
        status, _, _ = cgi(url)
        self.assertEqual(status, 401)


class ProductionDefaults(ApiCase):
    """Item 14: with the production environment (rendered rostrum.env) registration never makes
    an admin; the operator creates one with the CLI."""

    def test_first_account_is_a_member(self):
        out = tempfile.mkdtemp(prefix="rostrum-prodenv-", dir=os.environ.get("ROSTRUM_TEST_TMP"))
        subprocess.run([os.path.join(SOURCE, "scripts/stack.sh"), "render-production", out], check=True,
                       env=dict(S.env, ROSTRUM_DATA_DIR=out + "/data"), capture_output=True)
        env = {}
        with open(os.path.join(out, "rostrum.env")) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.strip().split("=", 1)
                    env[k] = v
        env["ROSTRUM_AUTH_COOKIE_SECURE"] = "false"  # plain HTTP in the test
        p = Stack("edgeprod", **env)
        try:
            r = p.post(f"{API}/auth/register", {"email": "first@x.io", "password": PASSWORD, "name": "F"})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["role"], "member")
        finally:
            p.stop()
        CASES.append(("14", "auth.first_user_admin=false in production: first account is a member"))


class ZzReport(unittest.TestCase):
    def test_no_5xx_and_report(self):
        access = S.log_text("nginx/logs/access.log")
        self.assertEqual([line for line in access.splitlines() if re.search(r'" 5\d\d ', line)], [])
        self.assertNotIn(" ERROR ", S.log_text("log/api.log").replace("ERROR api[1] forged", ""))
        print(f"\nedge: {len(CASES)} attacks refused: " + "; ".join(f"{i}: {w}" for i, w in CASES), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
