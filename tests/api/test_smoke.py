"""Smoke: the stack starts as `make run` starts it, answers health, docs and the auth round trip."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import Stack  # noqa: E402

S = None


def setUpModule():
    global S
    S = Stack("smoke")


def tearDownModule():
    S.stop()


class Smoke(unittest.TestCase):
    def test_health_and_ready(self):
        self.assertEqual(S.get("/healthz").status, 200)
        r = S.get("/readyz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "ready")

    def test_docs_and_openapi(self):
        r = S.get("/api/v1/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["openapi"], "3.1.0")
        self.assertEqual(S.get("/docs/").status, 200)
        self.assertEqual(S.get("/docs/swagger-ui-bundle.js").status, 200)

    def test_register_login_me(self):
        user, token, _ = S.new_user()
        r = S.get("/api/v1/auth/me", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], user["id"])

    def test_unknown_path_is_problem_json(self):
        r = S.get("/api/v1/nope")
        self.assertEqual(r.status, 404)
        self.assertTrue(r.header("content-type").startswith("application/problem+json"))


class ProductionSite(unittest.TestCase):
    """The production template renders to a config nginx accepts (TLS, HSTS, redirects)."""

    def test_rendered_site_passes_nginx_t(self):
        import subprocess
        import tempfile
        from stack import SOURCE
        with tempfile.TemporaryDirectory() as d:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                           check=True, capture_output=True)
            env = dict(os.environ, ROSTRUM_TLS_CERT=cert, ROSTRUM_TLS_KEY=key,
                       ROSTRUM_API_SOCKET=os.path.join(d, "api.sock"))
            subprocess.run([os.path.join(SOURCE, "scripts/stack.sh"), "render-production", d],
                           check=True, env=env, capture_output=True)
            with open(os.path.join(d, "rostrum.conf")) as f:
                site = f.read()
            # HSTS comes from rostrum_headers.conf, which every header-adding block includes
            # (test_edge.py checks that).
            with open(os.path.join(d, "rostrum_headers.conf")) as f:
                self.assertIn("Strict-Transport-Security", f.read())
            self.assertIn("return 301 https://", site)
            os.makedirs(os.path.join(d, "logs"), exist_ok=True)
            main = os.path.join(d, "nginx.conf")
            with open(main, "w") as f:
                f.write(f"pid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\nevents {{}}\n"
                        f"http {{ include /etc/nginx/mime.types; include {d}/rostrum.conf; }}\n")
            r = subprocess.run(["nginx", "-t", "-p", d, "-e", f"{d}/logs/error.log", "-c", main],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
