"""ROSTRUM_TLS=1 (issue 16, "Server"): the embedded stack over HTTPS with the certificate it
makes, the smoke journey through it, and the protocols and ciphers it accepts, checked with
`openssl s_client`."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import SOURCE, Stack  # noqa: E402

SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.abspath(os.path.join(SOURCE, "..", "shared", "data", "speech")))
CLIP = os.path.join(SPEECH, "read", "ps_goforward.wav")
S = None
CERT = None


def setUpModule():
    global S, CERT
    # The harness turns secure cookies off for its plain-HTTP stacks; HTTPS turns them back on.
    S = Stack("tls", ROSTRUM_TLS="1", ROSTRUM_AUTH_COOKIE_SECURE="true")
    CERT = os.path.join(S.dir, "tls", "cert.pem")


def tearDownModule():
    S.stop()


def https(method, path, body=None, token=None, content_type=None, headers=None):
    """A request that trusts only the stack's own certificate and checks it names localhost."""
    ctx = ssl.create_default_context(cafile=CERT)
    conn = http.client.HTTPSConnection("localhost", S.port, context=ctx, timeout=60)
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    if content_type:
        hdrs["Content-Type"] = content_type
    if isinstance(body, (dict, list)):
        body, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        headers = dict((k.lower(), v) for k, v in r.getheaders())
        headers["set-cookie"] = r.msg.get_all("Set-Cookie") or []
        return r.status, headers, r.read()
    finally:
        conn.close()


def handshake_ok(out):
    """A completed, verified handshake in s_client's transcript (a refused one still prints
    "Verify return code: 0", with no cipher)."""
    return "Verify return code: 0 (ok)" in out and "Cipher is (NONE)" not in out


def s_client(*args):
    """openssl s_client's transcript of one handshake with the stack."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{S.port}", "-servername", "localhost",
                        "-CAfile", CERT, *args], input="", capture_output=True, text=True, errors="replace",
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


class Tls(unittest.TestCase):
    def test_certificate_names_this_machine(self):
        text = subprocess.run(["openssl", "x509", "-in", CERT, "-noout", "-text"], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn("DNS:localhost", text)
        self.assertIn("IP Address:127.0.0.1", text)
        self.assertIn("TLS Web Server Authentication", text)
        key = os.path.join(S.dir, "tls", "key.pem")
        self.assertEqual(os.stat(key).st_mode & 0o077, 0, "the key is its owner's alone")

    def test_journey_over_https(self):
        email = "tls-user@example.org"
        status, _, _ = https("POST", "/api/v1/auth/register",
                             {"email": email, "password": "correct horse battery", "name": "TLS"})
        self.assertEqual(status, 201)
        status, _, body = https("POST", "/api/v1/auth/login", {"email": email, "password": "correct horse battery"})
        self.assertEqual(status, 200)
        token = json.loads(body)["access_token"]
        with open(CLIP, "rb") as f:
            audio = f.read()
        status, headers, body = https("POST", "/api/v1/sessions", audio, token=token, content_type="audio/wav")
        self.assertEqual(status, 202, body)
        sid = json.loads(body)["id"]

        def done():
            return json.loads(https("GET", f"/api/v1/sessions/{sid}", token=token)[2])["status"] in ("done", "failed")
        S.wait_until(done, timeout=120, what="the session over HTTPS")
        session = json.loads(https("GET", f"/api/v1/sessions/{sid}", token=token)[2])
        self.assertEqual(session["status"], "done")
        self.assertGreater(len(session["transcript"]["words"]), 0)
        status, headers, _ = https("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertIn("max-age=", headers.get("strict-transport-security", ""))

    def test_cookies_are_secure(self):
        email = "tls-cookie@example.org"
        https("POST", "/api/v1/auth/register", {"email": email, "password": "correct horse battery", "name": "C"})
        status, headers, _ = https("POST", "/api/v1/auth/login?set_cookie=true",
                                   {"email": email, "password": "correct horse battery"},
                                   headers={"Origin": f"https://localhost:{S.port}"})
        self.assertEqual(status, 200)
        cookies = headers["set-cookie"]
        self.assertGreaterEqual(len(cookies), 3, cookies)  # access, refresh, CSRF
        for c in cookies:
            self.assertIn("Secure", c)

    def test_plain_http_is_redirected_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=10)
        try:
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            r = conn.getresponse()
            self.assertEqual(r.status, 301)
            self.assertEqual(r.getheader("Location"), f"https://localhost:{S.port}/healthz")
        finally:
            conn.close()

    def test_protocols(self):
        for flag, ok in (("-tls1_3", True), ("-tls1_2", True), ("-tls1_1", False), ("-tls1", False)):
            rc, out = s_client(flag)
            self.assertEqual(handshake_ok(out), ok, f"{flag}: {out}")

    def test_ciphers_are_aead_with_forward_secrecy(self):
        # CBC and RSA key exchange are refused under TLS 1.2; a modern suite is taken.
        for weak in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256"):
            rc, out = s_client("-tls1_2", "-cipher", weak)
            self.assertFalse(handshake_ok(out), f"{weak}: {out}")
        rc, out = s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertTrue(handshake_ok(out), out)
        rc, out = s_client("-alpn", "h2")
        self.assertIn("ALPN protocol: h2", out)


if __name__ == "__main__":
    unittest.main()
