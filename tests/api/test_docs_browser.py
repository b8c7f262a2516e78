"""Swagger UI in a real browser: /docs/ loads, Authorize works through /auth/token, and
"Try it out" on /auth/me answers 200 with the caller."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import SOURCE, Stack  # noqa: E402


class DocsInBrowser(unittest.TestCase):
    def test_authorize_and_try_it_out(self):
        for need in ("/usr/bin/chromium", os.path.join(SOURCE, "web/node_modules/playwright-core")):
            self.assertTrue(os.path.exists(need), f"{need} missing: run scripts/deps.sh")
        S = Stack("docs")
        try:
            _, email, password = S.register()
            shot = os.path.join(S.dir, "docs.png")
            r = subprocess.run([shutil.which("node") or "node",
                                os.path.join(SOURCE, "tests/browser/docs_authorize.mjs"),
                                S.base, email, password, shot],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(os.path.getsize(shot) > 1000)
        finally:
            S.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
