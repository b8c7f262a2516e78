"""Auth routes over HTTP (API.md "Auth"): register, login, OAuth2 form login, refresh rotation,
logout, /auth/me, password change, deactivation/deletion, cookie + CSRF flow.

Catalogue rows: B18, B60, B62, A13, A14, A17–A20, A24 (same body), A27, A29, A44.
"""
import http.client
import json
import os
import re
import secrets
import sys
import threading
import time
import unicodedata
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase, without_request_id  # noqa: E402
from stack import Response, Stack  # noqa: E402

S = None
ADMIN = {}  # id, email, password, access, refresh
SECRETS_USED = set()  # every password and token this file sends: none may reach a log (A29)

API = "/api/v1"
PASSWORD = "correct horse battery"
BACKOFF_MAX_S = 3


def setUpModule():
    global S
    # A short cap on the back-off: the tests wait out the window (ZyBackoff).
    S = Stack("auth", ROSTRUM_AUTH_BACKOFF_MAX_S=BACKOFF_MAX_S)
    # The first account on a fresh install becomes admin: register it before anything else.
    email = "admin@x.io"
    r = S.post(f"{API}/auth/register", {"email": email, "password": PASSWORD, "name": "Admin"})
    assert r.status == 201, r
    ADMIN["user"] = r.json()
    ADMIN["email"] = email
    pair = S.login(email, PASSWORD)
    ADMIN["access"], ADMIN["refresh"] = pair["access_token"], pair["refresh_token"]
    remember(PASSWORD, ADMIN["access"], ADMIN["refresh"])


def tearDownModule():
    S.stop()


# --- helpers ------------------------------------------------------------------------------

def remember(*values):
    for v in values:
        if v:
            SECRETS_USED.add(v)


def unique_email(prefix="u"):
    return f"{prefix}-{secrets.token_hex(6)}@example.com"


def register(email=None, password=PASSWORD, name="Test User"):
    email = email or unique_email()
    remember(password)
    r = S.post(f"{API}/auth/register", {"email": email, "password": password, "name": name})
    return r, email


def login(email, password, query=""):
    remember(password)
    r = S.post(f"{API}/auth/login{query}", {"email": email, "password": password})
    if r.status == 200:
        body = r.json()
        remember(body.get("access_token"), body.get("refresh_token"))
    return r


def new_user(password=PASSWORD):
    r, email = register(password=password)
    assert r.status == 201, r
    lr = login(email, password)
    assert lr.status == 200, lr
    pair = lr.json()
    return r.json(), email, pair["access_token"], pair["refresh_token"]


def refresh(token, **kw):
    remember(token)
    r = S.post(f"{API}/auth/refresh", {"refresh_token": token}, **kw)
    if r.status == 200:
        body = r.json()
        remember(body.get("access_token"), body.get("refresh_token"))
    return r


def me(token):
    return S.get(f"{API}/auth/me", token=token)


def fingerprint():
    """S.fingerprint()."""
    return S.fingerprint()


def set_cookies(r):
    """{name: (value, attributes-lower-case)} from every Set-Cookie header."""
    out = {}
    for line in r.header_all("set-cookie"):
        parts = [p.strip() for p in line.split(";")]
        name, _, value = parts[0].partition("=")
        out[name] = (value, [p.lower() for p in parts[1:]])
    return out


class Base(ApiCase):
    def assertUnchanged(self, before):
        self.assertEqual(fingerprint(), before, "the database changed after a refused request")

    def assertTokenPair(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("application/json"), r)
        self.assertIn("no-store", (r.header("cache-control") or ""), "token responses must not be cached")
        body = r.json()
        self.assertEqual(set(body), {"access_token", "refresh_token", "token_type", "expires_in"}, body)
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["expires_in"], 900)
        self.assertIsInstance(body["expires_in"], int)
        self.assertEqual(body["access_token"].count("."), 2)
        self.assertGreaterEqual(len(body["refresh_token"]), 43)  # >= 256 bits, base64url
        self.assertRegex(body["refresh_token"], r"^[A-Za-z0-9_-]+$")
        remember(body["access_token"], body["refresh_token"])
        return body


# --- register --------------------------------------------------------------------------------

class Register(Base):
    def test_first_account_is_admin(self):
        self.assertEqual(ADMIN["user"]["role"], "admin")
        self.assertEqual(ADMIN["user"]["email"], "admin@x.io")

    def test_register_201_location_lowercase_member(self):
        local = "Mixed.Case-" + secrets.token_hex(4)
        r, _ = register(email=f"{local}@Example.COM", name="Ann Example")
        self.assertEqual(r.status, 201, r)
        u = r.json()
        self.assertEqual(set(u), {"id", "email", "name", "role", "is_active", "created_at", "updated_at"})
        self.assertEqual(u["email"], f"{local.lower()}@example.com")
        self.assertEqual(u["role"], "member")
        self.assertIs(u["is_active"], True)
        self.assertEqual(u["name"], "Ann Example")
        self.assertRegex(u["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertRegex(u["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(r.header("location"), f"{API}/users/{u['id']}")
        self.assertNotIn("password", r.body.decode())
        self.assertNotIn("password_hash", r.body.decode())
        # The mixed-case spelling logs in (login lower-cases too).
        self.assertEqual(login(f"{local.upper()}@EXAMPLE.com", PASSWORD).status, 200)

    def test_duplicate_email_409_case_insensitive(self):
        for email in ("admin@x.io", "ADMIN@x.io", "Admin@X.IO"):
            with self.subTest(email=email):
                before = fingerprint()
                r, _ = register(email=email)
                self.assertProblem(r, 409)
                self.assertUnchanged(before)
        self.assertEqual(S.sql("SELECT count(*) FROM users WHERE lower(email) = 'admin@x.io'"), [["1"]])

    def test_duplicate_of_member_409(self):
        r, email = register()
        self.assertEqual(r.status, 201, r)
        before = fingerprint()
        r2, _ = register(email=email.upper())
        self.assertProblem(r2, 409)
        self.assertUnchanged(before)

    def test_policy_422(self):
        cases = {
            "7 chars": "abcdefg",
            "7 code points": "äöüßéèê",
            "common": "password1",
            "common, other case": "PassWord1",
            "common 2": "iloveyou",
            "257 code points": "a" * 257,
            "257 four-byte code points": "\U0001F511" * 257,
        }
        for why, pw in cases.items():
            with self.subTest(why=why):
                before = fingerprint()
                r, _ = register(password=pw)
                body = self.assertProblem(r, 422)
                self.assertEqual(body["errors"][0]["field"], "password", body)
                self.assertUnchanged(before)

    def test_email_422(self):
        cases = {
            "cyrillic a": "\u0430dmin@x.io",
            "cyrillic in domain": "someone@ex\u0430mple.com",
            "no at": "admin.x.io",
            "two ats": "a@b@x.io",
            "space": "a b@x.io",
            "no dot in domain": "a@localhost",
        }
        for why, email in cases.items():
            with self.subTest(why=why):
                before = fingerprint()
                r, _ = register(email=email)
                body = self.assertProblem(r, 422)
                self.assertEqual(body["errors"][0]["field"], "email", body)
                self.assertUnchanged(before)

    def test_256_code_points_accepted_and_verified(self):
        for pw in ("b" * 256, "\u00e9" * 256, "\U0001F511" * 256):
            with self.subTest(bytes=len(pw.encode())):
                r, email = register(password=pw)
                self.assertEqual(r.status, 201, r)
                self.assertTokenPair(login(email, pw))
                self.assertProblem(login(email, pw[:-1]), 401)  # no truncation

    def test_64_char_and_non_ascii_byte_exact(self):
        pw64 = "".join(secrets.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                       for _ in range(64))
        nonascii = "Gr\u00fc\u00dfe, \u4e16\u754c! \U0001F511 caf\u00e9 \u00f1"
        long80 = "L" * 72 + secrets.token_hex(4)  # bcrypt would look at 72 bytes only
        for pw in (pw64, nonascii, long80):
            with self.subTest(pw=pw[:12]):
                r, email = register(password=pw)
                self.assertEqual(r.status, 201, r)
                self.assertTokenPair(login(email, pw))
                changed = pw[:-1] + ("X" if pw[-1] != "X" else "Y")
                self.assertProblem(login(email, changed), 401)
                self.assertProblem(login(email, pw[:-1]), 401)
                self.assertProblem(login(email, pw + " "), 401)
                self.assertProblem(login(email, pw.upper() if pw.upper() != pw else pw.lower()), 401)
        # Composed vs decomposed: the bytes differ, so the password differs (no normalisation).
        r, email = register(password=nonascii)
        self.assertEqual(r.status, 201, r)
        nfd = unicodedata.normalize("NFD", nonascii)
        self.assertNotEqual(nfd, nonascii)
        self.assertProblem(login(email, nfd), 401)
        self.assertEqual(login(email, nonascii).status, 200)


# --- login, token -----------------------------------------------------------------------------

class Login(Base):
    def test_login_shape(self):
        _, email, _, _ = new_user()
        body = self.assertTokenPair(login(email, PASSWORD))
        self.assertEqual(me(body["access_token"]).status, 200)

    def test_each_login_gets_new_tokens(self):
        _, email, access, refresh_tok = new_user()
        b = self.assertTokenPair(login(email, PASSWORD))
        self.assertNotEqual(b["access_token"], access)
        self.assertNotEqual(b["refresh_token"], refresh_tok)

    def test_unknown_email_and_wrong_password_identical(self):
        _, email, _, _ = new_user()
        before = fingerprint()
        wrong = login(email, "not the password at all")
        unknown = login(unique_email("nobody"), "not the password at all")
        inactive_like = login(email.upper(), "not the password at all")
        for r in (wrong, unknown, inactive_like):
            self.assertProblem(r, 401)
        self.assertEqual(without_request_id(wrong), without_request_id(unknown))
        self.assertEqual(without_request_id(wrong), without_request_id(inactive_like))
        self.assertEqual(wrong.header("content-type"), unknown.header("content-type"))
        self.assertEqual(wrong.header("www-authenticate"), unknown.header("www-authenticate"))
        self.assertUnchanged(before)

    def test_one_mib_password_refused_quickly(self):
        _, email, _, _ = new_user()
        before = fingerprint()
        t0 = time.monotonic()
        r = S.post(f"{API}/auth/login", {"email": email, "password": "x" * (1 << 20)})
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, 2.0)
        # Over the 64 KiB JSON limit: nginx answers 413 before a worker is involved.
        self.assertIn(r.status, (400, 413), r)
        self.assertProblem(r, r.status)
        self.assertUnchanged(before)

    def test_over_cap_password_within_body_limit(self):
        """B60: a login password over the 1024 cap (inside the 64 KiB body limit) is refused
        quickly, before argon2, with ONE status whatever its encoding: 60,000 ASCII chars,
        1,025 ASCII chars, and 600 two-byte chars (= 1,200 bytes). The catalogue says 400."""
        _, email, _, _ = new_user()
        statuses = {}
        for pw in ("x" * 60000, "y" * 1025, "\u00e9" * 600):
            key = f"{len(pw)} chars / {len(pw.encode())} bytes"
            with self.subTest(key):
                before = fingerprint()
                t0 = time.monotonic()
                r = S.post(f"{API}/auth/login", {"email": email, "password": pw})
                self.assertLess(time.monotonic() - t0, 2.0)
                self.assertIn(r.status, (400, 422), r)
                self.assertProblem(r, r.status)
                self.assertUnchanged(before)
                statuses[key] = r.status
        self.assertEqual(len(set(statuses.values())), 1, f"inconsistent statuses: {statuses}")

    def test_token_form_login(self):
        _, email, _, _ = new_user()
        form = f"grant_type=password&username={email.replace('@', '%40')}&password=correct+horse+battery&scope="
        r = S.request("POST", f"{API}/auth/token", body=form, content_type="application/x-www-form-urlencoded")
        self.assertTokenPair(r)
        # Without grant_type (Swagger may omit it) too.
        r = S.request("POST", f"{API}/auth/token", body=f"username={email}&password=correct%20horse%20battery",
                      content_type="application/x-www-form-urlencoded")
        body = self.assertTokenPair(r)
        self.assertEqual(me(body["access_token"]).json()["email"], email)

    def test_token_form_errors(self):
        _, email, _, _ = new_user()
        cases = [
            ("wrong grant_type", f"grant_type=client_credentials&username={email}&password=x",
             "application/x-www-form-urlencoded", 400),
            ("wrong password", f"grant_type=password&username={email}&password=wrong+one+here",
             "application/x-www-form-urlencoded", 401),
            ("unknown user", "grant_type=password&username=nobody%40x.io&password=wrong+one+here",
             "application/x-www-form-urlencoded", 401),
            ("no password", f"grant_type=password&username={email}", "application/x-www-form-urlencoded", 400),
            ("json body", json.dumps({"username": email, "password": PASSWORD}), "application/json", 415),
            ("no content type", f"username={email}&password=x", None, 415),
        ]
        for why, body, ct, status in cases:
            with self.subTest(why=why):
                before = fingerprint()
                r = S.request("POST", f"{API}/auth/token", body=body, content_type=ct)
                self.assertProblem(r, status)
                self.assertUnchanged(before)


# --- refresh, logout --------------------------------------------------------------------------

class Refresh(Base):
    def test_rotation_and_reuse_revokes_family(self):
        _, email, _, r0 = new_user()
        b1 = self.assertTokenPair(refresh(r0))
        r1 = b1["refresh_token"]
        self.assertNotEqual(r1, r0)
        self.assertEqual(me(b1["access_token"]).status, 200)
        b2 = self.assertTokenPair(refresh(r1))
        r2 = b2["refresh_token"]
        # r0 is spent: presenting it again is a reuse → 401 and the family is revoked.
        self.assertProblem(refresh(r0), 401)
        self.assertProblem(refresh(r2), 401)  # the newest of the family is dead too
        self.assertProblem(refresh(r1), 401)
        # Another login is another family: unaffected.
        self.assertTokenPair(refresh(self.assertTokenPair(login(email, PASSWORD))["refresh_token"]))

    def test_garbage_and_access_token_as_refresh_401(self):
        _, _, access, _ = new_user()
        for tok in ("x", secrets.token_urlsafe(32), access[:128], access):
            with self.subTest(tok=tok[:10]):
                self.assertProblem(refresh(tok), 401)

    def test_concurrent_refresh_exactly_one_winner(self):
        _, _, _, tok = new_user()
        n = 20
        barrier = threading.Barrier(n)
        results = [None] * n

        def go(i):
            barrier.wait()
            try:
                results[i] = S.post(f"{API}/auth/refresh", {"refresh_token": tok}, timeout=60)
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                results[i] = e

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        statuses = sorted(getattr(r, "status", repr(r)) for r in results)
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(401), n - 1, statuses)
        for r in results:
            if r.status == 200:
                remember(r.json()["access_token"], r.json()["refresh_token"])
            else:
                self.assertProblem(r, 401)

    def test_logout_then_refresh_401(self):
        _, _, _, tok = new_user()
        b = self.assertTokenPair(refresh(tok))
        r = S.post(f"{API}/auth/logout", {"refresh_token": b["refresh_token"]})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertProblem(refresh(b["refresh_token"]), 401)

    def test_logout_unknown_token_204_no_change(self):
        before = fingerprint()
        r = S.post(f"{API}/auth/logout", {"refresh_token": secrets.token_urlsafe(32)})
        self.assertEqual(r.status, 204, r)
        self.assertUnchanged(before)


# --- /auth/me and password change -------------------------------------------------------------

class Me(Base):
    def test_get_and_patch_name(self):
        user, email, access, _ = new_user()
        r = me(access)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), user)
        self.assertIn("no-store", r.header("cache-control") or "")
        r = S.request("PATCH", f"{API}/auth/me", json_body={"name": "Renamed \u00c9mile"}, token=access)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "Renamed \u00c9mile")
        self.assertEqual(r.json()["role"], "member")
        self.assertEqual(me(access).json()["name"], "Renamed \u00c9mile")

    def test_me_without_token_401(self):
        self.assertProblem(S.get(f"{API}/auth/me"), 401)
        self.assertProblem(S.request("PATCH", f"{API}/auth/me", json_body={"name": "x"}), 401)

    def test_password_change_requires_current(self):
        _, email, access, _ = new_user()
        new_pw = "a brand new passphrase"
        remember(new_pw)
        cases = [
            ("missing current", {"new_password": new_pw}),
            ("wrong current", {"current_password": "not my password", "new_password": new_pw}),
            ("new too short", {"current_password": PASSWORD, "new_password": "short"}),
            ("new common", {"current_password": PASSWORD, "new_password": "password1"}),
        ]
        for why, body in cases:
            with self.subTest(why=why):
                before = fingerprint()
                r = S.request("PATCH", f"{API}/auth/me", json_body=body, token=access)
                self.assertProblem(r, 422)
                self.assertUnchanged(before)
        self.assertEqual(me(access).status, 200)
        self.assertEqual(login(email, PASSWORD).status, 200)

    def test_password_change_revokes_everything(self):
        _, email, access, refresh_tok = new_user()
        other = self.assertTokenPair(login(email, PASSWORD))  # a second session
        new_pw = "another long passphrase " + secrets.token_hex(3)
        remember(new_pw)
        r = S.request("PATCH", f"{API}/auth/me",
                      json_body={"current_password": PASSWORD, "new_password": new_pw}, token=access)
        self.assertEqual(r.status, 200, r)
        self.assertProblem(me(access), 401)
        self.assertProblem(me(other["access_token"]), 401)
        self.assertProblem(refresh(refresh_tok), 401)
        self.assertProblem(refresh(other["refresh_token"]), 401)
        self.assertProblem(login(email, PASSWORD), 401)
        b = self.assertTokenPair(login(email, new_pw))
        self.assertEqual(me(b["access_token"]).status, 200)


# --- deactivation and deletion ------------------------------------------------------------------

class AccountState(Base):
    def test_deactivated_user_token_401_at_once(self):
        user, email, access, refresh_tok = new_user()
        self.assertEqual(me(access).status, 200)
        r = S.request("PATCH", f"{API}/users/{user['id']}", json_body={"is_active": False}, token=ADMIN["access"])
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["is_active"], False)
        self.assertProblem(me(access), 401)
        self.assertProblem(refresh(refresh_tok), 401)
        # Login: the same 401 as a wrong password (no account-state oracle).
        r_inactive = login(email, PASSWORD)
        r_wrong = login(email, "definitely wrong")
        self.assertProblem(r_inactive, 401)
        self.assertEqual(without_request_id(r_inactive), without_request_id(r_wrong))
        # Reactivated: a fresh login works; the old token stays dead.
        r = S.request("PATCH", f"{API}/users/{user['id']}", json_body={"is_active": True}, token=ADMIN["access"])
        self.assertEqual(r.status, 200, r)
        self.assertProblem(me(access), 401)
        self.assertTokenPair(login(email, PASSWORD))

    def test_deleted_user_token_401(self):
        user, email, access, refresh_tok = new_user()
        r = S.request("DELETE", f"{API}/users/{user['id']}", token=ADMIN["access"])
        self.assertEqual(r.status, 204, r)
        self.assertProblem(me(access), 401)
        self.assertProblem(refresh(refresh_tok), 401)
        self.assertProblem(login(email, PASSWORD), 401)
        self.assertEqual(S.sql(f"SELECT count(*) FROM refresh_tokens WHERE user_id = '{user['id']}'"), [["0"]])


# --- cookies and CSRF ---------------------------------------------------------------------------

class Cookies(Base):
    def cookie_login(self):
        _, email, _, _ = new_user()
        r = login(email, PASSWORD, query="?set_cookie=true")
        body = self.assertTokenPair(r)
        c = set_cookies(r)
        for name in ("rostrum_access", "rostrum_refresh", "rostrum_csrf"):
            self.assertIn(name, c, r.header_all("set-cookie"))
            remember(c[name][0])
        return body, c

    def test_login_sets_cookies(self):
        body, c = self.cookie_login()
        access, a_attrs = c["rostrum_access"]
        refresh_v, r_attrs = c["rostrum_refresh"]
        csrf, c_attrs = c["rostrum_csrf"]
        self.assertEqual(access, body["access_token"])
        self.assertEqual(refresh_v, body["refresh_token"])
        for attrs in (a_attrs, r_attrs):
            self.assertIn("httponly", attrs)
            self.assertIn("samesite=strict", attrs)
        self.assertIn("samesite=strict", c_attrs)
        self.assertNotIn("httponly", c_attrs)  # the page's script must read it
        self.assertIn("path=/api/v1/auth", r_attrs)  # the refresh cookie goes to auth routes only
        self.assertGreaterEqual(len(csrf), 32)

    def test_login_without_set_cookie_sets_none(self):
        _, email, _, _ = new_user()
        r = login(email, PASSWORD)
        self.assertEqual(r.header_all("set-cookie"), [])

    def test_cookie_auth_and_csrf(self):
        _, c = self.cookie_login()
        access, csrf = c["rostrum_access"][0], c["rostrum_csrf"][0]
        jar = f"rostrum_access={access}; rostrum_csrf={csrf}"
        r = S.get(f"{API}/auth/me", headers={"Cookie": jar})
        self.assertEqual(r.status, 200, r)
        # A state-changing request with only the cookie: CSRF refused.
        before = fingerprint()
        r = S.request("PATCH", f"{API}/auth/me", json_body={"name": "csrf victim"}, headers={"Cookie": jar})
        self.assertProblem(r, 403)
        r = S.request("PATCH", f"{API}/auth/me", json_body={"name": "csrf victim"},
                      headers={"Cookie": jar, "X-CSRF-Token": "wrong" + csrf[5:]})
        self.assertProblem(r, 403)
        r = S.request("PATCH", f"{API}/auth/me", json_body={"name": "csrf victim"},
                      headers={"Cookie": f"rostrum_access={access}", "X-CSRF-Token": csrf})
        self.assertProblem(r, 403)  # header without the cookie to compare it with
        self.assertUnchanged(before)
        r = S.request("PATCH", f"{API}/auth/me", json_body={"name": "with csrf"},
                      headers={"Cookie": jar, "X-CSRF-Token": csrf})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "with csrf")

    def test_refresh_via_cookie(self):
        _, c = self.cookie_login()
        refresh_v, csrf = c["rostrum_refresh"][0], c["rostrum_csrf"][0]
        jar = f"rostrum_refresh={refresh_v}; rostrum_csrf={csrf}"
        before = fingerprint()
        r = S.request("POST", f"{API}/auth/refresh", headers={"Cookie": jar})
        self.assertProblem(r, 403)  # no CSRF header
        self.assertUnchanged(before)
        r = S.request("POST", f"{API}/auth/refresh?set_cookie=true", headers={"Cookie": jar, "X-CSRF-Token": csrf})
        body = self.assertTokenPair(r)
        c2 = set_cookies(r)
        self.assertEqual(c2["rostrum_refresh"][0], body["refresh_token"])
        remember(*(v for v, _ in c2.values()))
        self.assertEqual(S.get(f"{API}/auth/me", headers={"Cookie": f"rostrum_access={body['access_token']}"}).status, 200)
        # The cookie's refresh token is spent now.
        self.assertProblem(S.request("POST", f"{API}/auth/refresh", headers={"Cookie": jar, "X-CSRF-Token": csrf}), 401)

    def test_logout_clears_cookies(self):
        _, c = self.cookie_login()
        refresh_v, csrf = c["rostrum_refresh"][0], c["rostrum_csrf"][0]
        r = S.request("POST", f"{API}/auth/logout",
                      headers={"Cookie": f"rostrum_refresh={refresh_v}; rostrum_csrf={csrf}", "X-CSRF-Token": csrf})
        self.assertEqual(r.status, 204, r)
        cleared = set_cookies(r)
        for name in ("rostrum_access", "rostrum_refresh", "rostrum_csrf"):
            self.assertIn(name, cleared)
            self.assertEqual(cleared[name][0], "")
            self.assertIn("max-age=0", cleared[name][1])
        self.assertProblem(refresh(refresh_v), 401)


# --- headers (A44) -------------------------------------------------------------------------------

class Headers(Base):
    def test_json_and_problem_headers(self):
        r = login(ADMIN["email"], PASSWORD)
        self.assertEqual(r.header("content-type"), "application/json; charset=utf-8")
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        r = login(ADMIN["email"], "wrong wrong wrong")
        self.assertEqual(r.header("content-type"), "application/problem+json; charset=utf-8")
        self.assertEqual(r.header("x-content-type-options"), "nosniff")

    def test_refresh_and_token_no_store(self):
        _, email, _, tok = new_user()
        self.assertTokenPair(refresh(tok))  # asserts no-store
        r = S.request("POST", f"{API}/auth/token", body=f"username={email}&password=correct+horse+battery",
                      content_type="application/x-www-form-urlencoded")
        self.assertTokenPair(r)


# --- last: logs (A29) and 5xx --------------------------------------------------------------------

# --- issue 9 item 9: the per-account back-off on password checks ---------------------------

def request_from(source, method, path, json_body=None, token=None):
    """One request from a chosen loopback source address (127.0.0.0/8 is all local)."""
    hdrs = {"Content-Type": "application/json"}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=json.dumps(json_body).encode(), headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    finally:
        conn.close()


class ZyBackoff(Base):
    """Failed password checks back off per account (stored in PostgreSQL, so every api worker
    sees them): rotating source addresses gains an attacker nothing, an address the account
    logged in from before keeps its own counter (the owner is not locked out), and the wait is
    capped (auth.backoff_max_s, 3 s here) and ends with the right password."""

    def assert429(self, r):
        self.assertProblem(r, 429)
        retry = r.header("retry-after")
        self.assertIsNotNone(retry, "429 without Retry-After")
        self.assertRegex(retry, r"^\d+$")
        self.assertTrue(1 <= int(retry) <= BACKOFF_MAX_S, retry)

    def wait_for_status(self, send, status, what):
        got = {}

        def done():
            got["r"] = send()
            self.assertIn(got["r"].status, (status, 429), got["r"])
            return got["r"].status == status
        S.wait_until(done, timeout=BACKOFF_MAX_S + 20, what=what)
        return got["r"]

    def test_40_wrong_passwords_from_40_addresses_meet_a_429(self):
        _, email, _, _ = new_user()  # logged in once from 127.0.0.1: an address it knows
        wrong = {"email": email, "password": "not the password at all"}
        remember(wrong["password"])
        answers = [request_from(f"127.0.1.{i}", "POST", f"{API}/auth/login", wrong) for i in range(1, 41)]
        statuses = [r.status for r in answers]
        self.assertEqual(statuses[0], 401, statuses)
        self.assertIn(429, statuses, statuses)
        self.assertLessEqual(statuses.count(401), 12, statuses)
        for r in answers:
            if r.status == 429:
                self.assert429(r)
        # The token route shares the counter.
        form = f"username={email}&password=nope+nope+nope".encode()
        r = S.request("POST", f"{API}/auth/token", body=form, content_type="application/x-www-form-urlencoded",
                      headers={})
        self.assertIn(r.status, (401, 429), r)
        # The owner, from the address it logged in from before, is not locked out by them.
        self.assertEqual(login(email, PASSWORD).status, 200)
        # From a new address the right password waits out the window, then works.
        right = {"email": email, "password": PASSWORD}
        r = self.wait_for_status(lambda: request_from("127.0.2.1", "POST", f"{API}/auth/login", right),
                                 200, "the back-off window to pass")
        self.assertEqual(set(r.json()), {"access_token", "refresh_token", "token_type", "expires_in"})
        # A success resets the counter: a wrong password is a plain 401 again.
        self.assertProblem(request_from("127.0.1.99", "POST", f"{API}/auth/login", wrong), 401)

    def test_unknown_email_backs_off_like_a_real_one(self):
        body = {"email": unique_email("nobody"), "password": "not the password at all"}
        statuses = [request_from(f"127.0.3.{i}", "POST", f"{API}/auth/login", body).status
                    for i in range(1, 16)]
        self.assertEqual(statuses[0], 401, statuses)
        self.assertIn(429, statuses, statuses)

    def test_35_wrong_current_passwords_meet_a_429(self):
        user, email, access, _ = new_user()
        attempts = [request_from(f"127.0.4.{i}", "PATCH", f"{API}/auth/me",
                                 {"current_password": f"guess number {i}", "new_password": "a new long password"},
                                 token=access) for i in range(1, 36)]
        statuses = [r.status for r in attempts]
        self.assertEqual(statuses[0], 422, statuses)
        self.assertIn(429, statuses, statuses)
        for r in attempts:
            if r.status == 429:
                self.assert429(r)
        # The right current password after the window changes it (and revokes the old tokens).
        new_pw = "another long password"
        remember(new_pw)
        r = self.wait_for_status(lambda: request_from(
            "127.0.4.200", "PATCH", f"{API}/auth/me", {"current_password": PASSWORD, "new_password": new_pw},
            token=access), 200, "the back-off window to pass")
        self.assertEqual(r.json()["id"], user["id"])
        self.assertEqual(login(email, new_pw).status, 200)


class ZzLogs(Base):
    def test_logs_hold_no_secret_and_no_5xx(self):
        logs = S.log_text()
        self.assertGreater(len(SECRETS_USED), 20)
        leaked = [s[:16] + "…" for s in SECRETS_USED if len(s) >= 8 and s in logs]
        self.assertEqual(leaked, [], "passwords or tokens found in the logs")
        access = S.log_text("nginx/logs/access.log")
        fivexx = [line for line in access.splitlines() if re.search(r'" 5\d\d ', line)]
        self.assertEqual(fivexx, [])
        self.assertNotIn("internal error", S.log_text("log/api.log"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
