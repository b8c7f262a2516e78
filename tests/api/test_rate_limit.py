"""Credential endpoints are rate-limited per peer address (RELIABILITY.md A25, A26, B29, L07;
nginx limit_req with limit_req_status 429): a burst of wrong passwords from one address gets
429 problem+json with Retry-After, a correct login from another address still succeeds, the
limit lifts again (no permanent lockout), and client-sent forwarding headers never change the
key.

Its own stack: ROSTRUM_AUTH_RATE=2r/s, ROSTRUM_AUTH_BURST=3. Each test uses its own loopback
source addresses (127.0.0.0/8 is all local), so the buckets of one test never leak into another.
"""
import http.client
import json
import os
import re
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import Response, Stack  # noqa: E402

S = None
API = "/api/v1"
PASSWORD = "correct horse battery"
USER = {}


def setUpModule():
    global S
    # nginx's per-address limit alone: the per-account back-off (test_auth.py ZyBackoff) would
    # refuse this file's many wrong passwords for its one account too.
    S = Stack("ratelimit", ROSTRUM_AUTH_RATE="2r/s", ROSTRUM_AUTH_BURST="3", ROSTRUM_AUTH_FAILURES_FREE=1000)
    r = request("POST", f"{API}/auth/register", {"email": "limited@example.com", "password": PASSWORD, "name": "L"},
                source="127.0.0.250")
    assert r.status == 201, r
    r = request("POST", f"{API}/auth/login", {"email": "limited@example.com", "password": PASSWORD},
                source="127.0.0.251")
    assert r.status == 200, r
    USER.update(r.json(), email="limited@example.com")


def tearDownModule():
    S.stop()


def request(method, path, json_body=None, source="127.0.0.1", headers=None, token=None, body=None,
            content_type=None):
    """One request from a chosen loopback source address."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        content_type = content_type or "application/json"
    if content_type:
        hdrs["Content-Type"] = content_type
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    finally:
        conn.close()


def wrong_login(source, headers=None):
    return request("POST", f"{API}/auth/login", {"email": USER["email"], "password": "wrong password, again"},
                   source=source, headers=headers)


def cheap_login(source):
    """A login the app refuses before argon2 (no password field): it still counts toward nginx's
    limit, and it is fast, so a sequence of them outruns the refill whatever the machine's load."""
    return request("POST", f"{API}/auth/login", {"email": USER["email"]}, source=source)


def good_login(source, headers=None):
    return request("POST", f"{API}/auth/login", {"email": USER["email"], "password": PASSWORD},
                   source=source, headers=headers)


def burst(n, fn):
    """n calls of fn(i) released together from n threads; returns the responses in order."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def go(i):
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - asserted by the caller
            out[i] = e

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


class Base(unittest.TestCase):
    def assert429(self, r):
        self.assertEqual(r.status, 429, r)
        self.assertTrue((r.header("content-type") or "").startswith("application/problem+json"), r)
        body = r.json()
        for k in ("type", "title", "status", "detail"):
            self.assertIn(k, body)
        self.assertEqual(body["status"], 429)
        retry = r.header("retry-after")
        self.assertIsNotNone(retry, "429 without Retry-After")
        self.assertRegex(retry, r"^\d+$")
        self.assertGreater(int(retry), 0)

    def classify(self, responses):
        for r in responses:
            self.assertIsInstance(r, Response, r)
            self.assertLess(r.status, 500, r)
        return [r.status for r in responses]


class RateLimit(Base):
    def test_burst_of_wrong_passwords_then_other_address(self):
        before = S.fingerprint()
        statuses = self.classify(burst(12, lambda i: wrong_login("127.0.0.1")))
        self.assertIn(401, statuses, statuses)  # the first ones reach the app
        self.assertIn(429, statuses, statuses)
        self.assertLessEqual(statuses.count(401), 3 + 1 + 2, statuses)  # burst + 1, plus refill while hashing
        # Quick sequential attempts from the same address are refused by nginx: requests that the
        # app answers before hashing outrun the 2 r/s refill on any machine, however loaded.
        for _ in range(15):
            r = cheap_login("127.0.0.1")
            self.assertIn(r.status, (400, 422, 429), r)
            if r.status == 429:
                break
        self.assert429(r)
        # A correct login from another address is not affected (no lockout of the account).
        r = good_login("127.0.0.2")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json()), {"access_token", "refresh_token", "token_type", "expires_in"})
        # Nothing the limited requests did changed the database except the one successful login.
        after = S.fingerprint()
        self.assertEqual(after["users"], before["users"])
        # nginx logged the real peers (a refused request is logged under its error page's URI).
        access = S.log_text("nginx/logs/access.log")
        self.assertRegex(access, r'127\.0\.0\.1 \[[^]]+\] "[A-Z]+ /[^"]*" 429 ')
        self.assertRegex(access, r'127\.0\.0\.2 \[[^]]+\] "POST /api/v1/auth/login" 200 ')

    def test_429_on_every_credential_route(self):
        src = "127.0.0.40"
        form = f"username={USER['email']}&password=nope+nope+nope"
        statuses = self.classify(burst(10, lambda i: request(
            "POST", f"{API}/auth/token", body=form.encode(), content_type="application/x-www-form-urlencoded",
            source=src)))
        self.assertIn(429, statuses, statuses)
        # The same zone: /auth/register and /auth/refresh are limited too (bodies that would
        # be refused anyway, so that a request that slips through changes nothing).
        for src2, send in (("127.0.0.41", lambda i: request(
                               "POST", f"{API}/auth/register", {"email": f"x{i}@example.com", "password": "short",
                                                                "name": "x"}, source="127.0.0.41")),
                           ("127.0.0.42", lambda i: request(
                               "POST", f"{API}/auth/refresh", {"refresh_token": "x" * 43}, source="127.0.0.42"))):
            responses = burst(10, send)
            statuses = self.classify(responses)
            self.assertIn(429, statuses, f"{src2}: {statuses}")
            for r in responses:
                if r.status == 429:
                    self.assert429(r)
        # Other routes are not rate-limited for that address.
        r = request("GET", f"{API}/auth/me", source=src, token=USER["access_token"])
        self.assertEqual(r.status, 200, r)

    def test_no_permanent_lockout(self):
        src = "127.0.0.50"
        statuses = self.classify(burst(10, lambda i: wrong_login(src)))
        self.assertIn(429, statuses)
        got = {}

        def correct_login_passes():
            r = good_login(src)
            self.assertIn(r.status, (200, 429), r)
            got["r"] = r
            return r.status == 200

        S.wait_until(correct_login_passes, timeout=10, what="the limit to lift for 127.0.0.50")
        self.assertEqual(got["r"].status, 200)

    def test_forwarding_headers_do_not_change_the_key(self):
        # Twelve attempts from ONE peer, each claiming another client address: if the key
        # followed the headers, each would have a fresh bucket and none would be refused.
        src = "127.0.0.60"
        statuses = self.classify(burst(12, lambda i: wrong_login(src, headers={
            "X-Forwarded-For": f"203.0.113.{i + 1}", "X-Real-IP": f"203.0.113.{i + 1}",
            "Forwarded": f"for=203.0.113.{i + 1}", "True-Client-IP": f"203.0.113.{i + 1}"})))
        self.assertIn(429, statuses, statuses)
        # Claiming a limited address from a fresh peer does not borrow its (empty) bucket either.
        self.classify(burst(10, lambda i: wrong_login("127.0.0.70")))
        r = good_login("127.0.0.71", headers={"X-Forwarded-For": "127.0.0.70", "X-Real-IP": "127.0.0.70"})
        self.assertEqual(r.status, 200, r)
        # The logs show peers, never the claimed addresses.
        self.assertNotIn("203.0.113.", S.log_text())

    def test_zz_no_5xx(self):
        access = S.log_text("nginx/logs/access.log")
        self.assertEqual([line for line in access.splitlines() if re.search(r'" 5\d\d ', line)], [])
        self.assertNotIn(PASSWORD, S.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
