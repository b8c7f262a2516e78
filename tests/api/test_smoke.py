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


if __name__ == "__main__":
    unittest.main(verbosity=2)
