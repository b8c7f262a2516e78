"""Assertions shared by the API tests: every refusal is an RFC 9457 problem, and the same
checks apply whichever test file makes the request."""
import unittest


def without_request_id(r):
    """The problem body without its per-request id, for comparing two refusals."""
    b = r.json()
    b.pop("request_id", None)
    return b


class ApiCase(unittest.TestCase):
    def assertProblem(self, r, statuses, why=""):
        """r is application/problem+json with one of `statuses` (an int or several), its
        body's status equal to the HTTP status, and a Bearer challenge on 401."""
        statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
        prefix = f"{why}: " if why else ""
        self.assertIsNotNone(r, f"{prefix}no response")
        self.assertIn(r.status, statuses, f"{prefix}{r}")
        ct = r.header("content-type") or ""
        self.assertTrue(ct.startswith("application/problem+json"), f"{prefix}content-type {ct!r}: {r}")
        body = r.json()
        for k in ("type", "title", "status", "detail"):
            self.assertIn(k, body, f"{prefix}{r}")
        self.assertEqual(body["status"], r.status, f"{prefix}{r}")
        if r.status == 401:
            self.assertEqual(r.header("www-authenticate"), "Bearer", f"{prefix}{r}")
        return body
