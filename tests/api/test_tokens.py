"""Forged, confused and expired access tokens (RELIABILITY.md A01–A15, A20, A29; RFC 8725).

The test mints its own JWTs with the stack's real HS256 secret (<S.dir>/secrets/jwt.key), so a
positive control proves that a correctly minted token IS accepted and each forgery fails for the
reason it names. Every refusal is 401 problem+json with `WWW-Authenticate: Bearer`.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
PASSWORD = "correct horse battery"
SECRET = b""
ADMIN = {}
MEMBER = {}
OTHER = {}
USED = set()  # every token and password sent: none may appear in a log (A29)


def setUpModule():
    global S, SECRET
    S = Stack("tokens")
    with open(os.path.join(S.dir, "secrets", "jwt.key"), "rb") as f:
        SECRET = f.read().strip()
    assert len(SECRET) >= 32
    for who, email in ((ADMIN, "token-admin@example.com"), (MEMBER, None), (OTHER, None)):
        user, email, _ = S.register(email=email)
        pair = S.login(email)
        who.update(user=user, email=email, access=pair["access_token"], refresh=pair["refresh_token"])
        USED.update((pair["access_token"], pair["refresh_token"]))
    USED.add(PASSWORD)
    assert ADMIN["user"]["role"] == "admin" and MEMBER["user"]["role"] == "member"


def tearDownModule():
    S.stop()


# --- minting ------------------------------------------------------------------------------

def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(obj):
    return b64u(obj if isinstance(obj, (str, bytes)) else json.dumps(obj, separators=(",", ":")))


DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def sign(signing_input, key=None, alg="HS256"):
    return b64u(hmac.new(SECRET if key is None else key, signing_input.encode(), DIGESTS[alg]).digest())


def mint(claims=None, header=None, key=None, alg="HS256", signature=None, **over):
    """A JWT. claims/header may be dicts or raw JSON text; `over` updates the default claims
    (a value of DROP removes the claim)."""
    if claims is None:
        claims = good_claims(MEMBER)
    if isinstance(claims, dict):
        claims = dict(claims)
        for k, v in over.items():
            if v is DROP:
                claims.pop(k, None)
            else:
                claims[k] = v
    if header is None:
        header = {"alg": alg, "typ": "JWT"}
    signing_input = f"{b64u_json(header)}.{b64u_json(claims)}"
    if signature is None:
        signature = sign(signing_input, key, alg if alg in DIGESTS else "HS256")
    token = f"{signing_input}.{signature}"
    USED.add(token)
    return token


DROP = object()


def token_version(user):
    return int(S.sql(f"SELECT token_version FROM users WHERE id = '{user['user']['id']}'")[0][0])


def good_claims(who, now=None):
    now = int(time.time()) if now is None else now
    return {"iss": "rostrum", "aud": "rostrum-api", "sub": who["user"]["id"], "iat": now, "nbf": now,
            "exp": now + 900, "jti": b64u(secrets.token_bytes(16)), "tt": "access", "tv": token_version(who)}


def parts(token):
    h, p, s = token.split(".")
    return h, p, s


def me(token=None, headers=None, path=f"{API}/auth/me"):
    if token:
        USED.add(token)
    return S.get(path, token=token, headers=headers)


class Base(unittest.TestCase):
    def assert401(self, r, why=""):
        self.assertEqual(r.status, 401, f"{why}: {r}")
        self.assertTrue((r.header("content-type") or "").startswith("application/problem+json"), r)
        body = r.json()
        for k in ("type", "title", "status", "detail"):
            self.assertIn(k, body)
        self.assertEqual(body["status"], 401)
        self.assertEqual(r.header("www-authenticate"), "Bearer", r)

    def assertRefused(self, token, why, path=f"{API}/auth/me"):
        with self.subTest(why=why):
            self.assert401(me(token, path=path), why)


# --- positive controls: the minting is right --------------------------------------------------

class Controls(Base):
    def test_server_token_accepted(self):
        r = me(MEMBER["access"])
        self.assertEqual(r.status, 200, r)

    def test_minted_token_accepted(self):
        r = me(mint(good_claims(MEMBER)))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], MEMBER["user"]["id"])
        r = me(mint(good_claims(ADMIN)), path=f"{API}/users")
        self.assertEqual(r.status, 200, r)

    def test_minted_like_server(self):
        """The server's own token has the claims this test mints, and its signature is what
        our HMAC computes: the minting helper is faithful."""
        h, p, sig = parts(MEMBER["access"])
        self.assertEqual(sign(f"{h}.{p}"), sig)
        claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        self.assertEqual(set(claims), set(good_claims(MEMBER)))
        self.assertEqual(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"], "HS256")

    def test_scheme_case_insensitive(self):
        r = S.get(f"{API}/auth/me", headers={"Authorization": "bearer " + MEMBER["access"]})
        self.assertEqual(r.status, 200, r)

    def test_exp_within_leeway_accepted(self):
        now = int(time.time())
        r = me(mint(good_claims(MEMBER), exp=now - 2, iat=now - 600, nbf=now - 600))
        self.assertEqual(r.status, 200, r)
        r = me(mint(good_claims(MEMBER), nbf=DROP))  # nbf is optional
        self.assertEqual(r.status, 200, r)
        r = me(mint(good_claims(MEMBER), aud=["other", "rostrum-api"]))  # aud may be an array
        self.assertEqual(r.status, 200, r)


# --- forgeries ---------------------------------------------------------------------------------

class Forgeries(Base):
    def test_a01_alg_none(self):
        c = good_claims(MEMBER)
        for alg in ("none", "None", "NONE", "nOnE"):
            h = b64u_json({"alg": alg, "typ": "JWT"})
            p = b64u_json(c)
            self.assertRefused(f"{h}.{p}.", f"alg {alg}, empty signature")
            self.assertRefused(mint(c, header={"alg": alg, "typ": "JWT"}), f"alg {alg}, HS256 signature")
        self.assertRefused(mint(c, header={"typ": "JWT"}), "no alg")
        self.assertRefused(mint(c, header='{"alg":"HS256","alg":"none","typ":"JWT"}'), "two alg keys")
        self.assertRefused(mint(c, header='{"alg":"none","alg":"HS256","typ":"JWT"}'), "two alg keys, HS256 last")
        self.assertRefused(mint(c, header={"alg": "hs256", "typ": "JWT"}), "alg in lower case")

    def test_a02_other_hmac_algs_with_real_secret(self):
        c = good_claims(MEMBER)
        for alg in ("HS384", "HS512"):
            self.assertRefused(mint(c, alg=alg), f"{alg} with the real secret")

    def test_a03_a04_asymmetric_and_wrong_keys(self):
        c = good_claims(MEMBER)
        junk = b64u(secrets.token_bytes(256))
        self.assertRefused(mint(c, header={"alg": "RS256", "typ": "JWT"}, signature=junk), "RS256 attacker signature")
        self.assertRefused(mint(c, header={"alg": "ES256", "typ": "JWT"}, signature=b64u(secrets.token_bytes(64))),
                           "ES256 attacker signature")
        pem = b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
        self.assertRefused(mint(c, key=pem), "HS256 keyed with a public PEM")
        self.assertRefused(mint(c, key=b""), "HS256 with an empty key")
        self.assertRefused(mint(c, key=b"secret"), "HS256 with 'secret'")
        self.assertRefused(mint(c, key=SECRET + b"x"), "HS256 with a near-miss key")
        self.assertRefused(mint(c, key=SECRET[:-1]), "HS256 with a truncated key")

    def test_a06_tampered_payload_keeps_signature(self):
        h, p, sig = parts(MEMBER["access"])
        claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        for why, change in (("sub → admin", {"sub": ADMIN["user"]["id"]}),
                            ("sub → other member", {"sub": OTHER["user"]["id"]}),
                            ("role → admin", {"role": "admin"}),
                            ("exp extended", {"exp": claims["exp"] + 86400}),
                            ("tv bumped", {"tv": claims["tv"] + 1})):
            forged = f"{h}.{b64u_json({**claims, **change})}.{sig}"
            USED.add(forged)
            self.assertRefused(forged, why)
            self.assertRefused(forged, why + " on an admin route", path=f"{API}/users")

    def test_a07_signature_stripped_or_swapped(self):
        h, p, sig = parts(MEMBER["access"])
        _, _, other_sig = parts(OTHER["access"])
        for why, tok in (("stripped h.p.", f"{h}.{p}."), ("no third segment h.p", f"{h}.{p}"),
                         ("another token's signature", f"{h}.{p}.{other_sig}"),
                         ("signature with padding", f"{h}.{p}.{sig}="),
                         ("signature one char off", f"{h}.{p}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"),
                         ("signature doubled", f"{h}.{p}.{sig}{sig}"),
                         ("four segments", f"{h}.{p}.{sig}.{sig}"),
                         ("standard base64 alphabet", f"{h}.{p}.{sig.replace('-', '+').replace('_', '/')}"
                          if ("-" in sig or "_" in sig) else f"{h}.{p}.+{sig[1:]}"),
                         ("whitespace inside", f"{h}.{p} .{sig}")):
            USED.add(tok)
            self.assertRefused(tok, why)

    def test_a08_times(self):
        now = int(time.time())
        c = good_claims(MEMBER, now)
        self.assertRefused(mint(c, exp=now - 120), "expired 2 min ago (leeway 30 s)")
        self.assertRefused(mint(c, exp=now - 3600, iat=now - 4500, nbf=now - 4500), "expired an hour ago")
        self.assertRefused(mint(c, nbf=now + 300), "nbf in the future")
        self.assertRefused(mint(c, iat=now + 300), "iat in the future")
        self.assertRefused(mint(c, iat=now + 300, nbf=now + 300, exp=now + 1200), "issued in the future")
        self.assertRefused(mint(c, exp=0), "exp 0")
        self.assertRefused(mint(c, exp=-1), "exp negative")

    def test_a09_exp_shapes(self):
        now = int(time.time())
        c = good_claims(MEMBER, now)
        self.assertRefused(mint(c, exp=DROP), "no exp")
        self.assertRefused(mint(c, iat=DROP), "no iat")
        self.assertRefused(mint(c, exp=str(now + 900)), "exp as a string")
        self.assertRefused(mint(c, exp=float(now + 900)), "exp as a float")
        self.assertRefused(mint(c, exp=now + 900.5), "exp with a fraction")
        self.assertRefused(mint(c, exp=True), "exp as a bool")
        self.assertRefused(mint(c, exp=None), "exp null")
        self.assertRefused(mint(c, exp=2 ** 63), "exp 2^63")
        self.assertRefused(mint(c, exp=2 ** 63 - 1), "exp 2^63-1")
        self.assertRefused(mint(c, exp=2 ** 64 + 5), "exp 2^64+5")
        self.assertRefused(mint(c, exp=10 ** 30), "exp 1e30")
        self.assertRefused(mint(c, tv=str(c["tv"])), "tv as a string")
        self.assertRefused(mint(c, tv=float(c["tv"])), "tv as a float")
        self.assertRefused(mint(c, tv=DROP), "no tv")
        self.assertRefused(mint(c, tv=-1), "tv negative")

    def test_a10_wrong_issuer_audience_type(self):
        c = good_claims(MEMBER)
        self.assertRefused(mint(c, iss="evil"), "wrong iss")
        self.assertRefused(mint(c, iss="Rostrum"), "iss in another case")
        self.assertRefused(mint(c, iss=DROP), "no iss")
        self.assertRefused(mint(c, aud="rostrum-web"), "wrong aud")
        self.assertRefused(mint(c, aud=["other", "another"]), "aud list without ours")
        self.assertRefused(mint(c, aud=DROP), "no aud")
        self.assertRefused(mint(c, tt="refresh"), "tt refresh")
        self.assertRefused(mint(c, tt="ws"), "tt ws")
        self.assertRefused(mint(c, tt=DROP), "no tt")
        self.assertRefused(mint(c, sub="not-a-uuid"), "sub not a UUID")
        self.assertRefused(mint(c, sub=MEMBER["user"]["id"].upper()), "sub upper-case UUID")
        self.assertRefused(mint(c, sub="00000000-0000-4000-8000-000000000000"), "sub of nobody")
        self.assertRefused(mint(c, sub=DROP), "no sub")
        self.assertRefused(mint(c, tv=c["tv"] + 1), "tv of a later token version")
        self.assertRefused(MEMBER["refresh"], "the refresh token as Bearer")

    def test_a11_header_key_injection(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        try:
            c = good_claims(MEMBER)
            attacker = b"attacker-key-" + secrets.token_bytes(8)
            cases = [
                ("kid ../../dev/null, empty key", {"alg": "HS256", "typ": "JWT", "kid": "../../dev/null"}, b""),
                ("kid /dev/null, empty key", {"alg": "HS256", "typ": "JWT", "kid": "/dev/null"}, b""),
                ("kid SQL union", {"alg": "HS256", "typ": "JWT", "kid": "x' UNION SELECT 'k"}, b"k"),
                ("jku attacker JWKS", {"alg": "HS256", "typ": "JWT", "jku": f"http://127.0.0.1:{port}/jwks.json"}, attacker),
                ("x5u attacker", {"alg": "HS256", "typ": "JWT", "x5u": f"http://127.0.0.1:{port}/cert.pem"}, attacker),
                ("embedded jwk", {"alg": "HS256", "typ": "JWT",
                                  "jwk": {"kty": "oct", "k": b64u(attacker)}}, attacker),
            ]
            for why, header, key in cases:
                self.assertRefused(mint(c, header=header, key=key), why)
            listener.setblocking(False)
            try:
                conn, _ = listener.accept()
                conn.close()
                self.fail("the server connected to the jku/x5u URL")
            except BlockingIOError:
                pass
        finally:
            listener.close()

    def test_a12_crit_and_typ(self):
        c = good_claims(MEMBER)
        self.assertRefused(mint(c, header={"alg": "HS256", "typ": "JWT", "crit": ["foo"], "foo": 1}), "crit [foo]")
        self.assertRefused(mint(c, header={"alg": "HS256", "typ": "JWT", "crit": []}), "crit []")

    def test_oversized_and_malformed(self):
        c = good_claims(MEMBER)
        big = mint(c, pad="x" * 5000)
        self.assertGreater(len(big), 5000)
        self.assertRefused(big, "5 KB token signed with the real secret")
        for why, tok in (("garbage", "abc"), ("dots only", ".."), ("empty segments", "a..b"),
                         ("payload not JSON", f"{b64u_json({'alg': 'HS256', 'typ': 'JWT'})}.{b64u('not json')}."
                                              + sign(f"{b64u_json({'alg': 'HS256', 'typ': 'JWT'})}.{b64u('not json')}")),
                         ("payload an array", mint("[1,2,3]")),
                         ("payload with trailing garbage", mint(json.dumps(c, separators=(",", ":")) + "xyz")),
                         ("payload with \\u0000 in sub", mint(json.dumps(c, separators=(",", ":")).replace('"sub":"', '"sub":"\\u0000'))),
                         ("header not JSON", mint(c, header="not json"))):
            USED.add(tok)
            self.assertRefused(tok, why)

    def test_a15_query_string_token_refused(self):
        tok = mint(good_claims(MEMBER))
        for q in (f"access_token={tok}", f"token={tok}", f"access_token={urllib.parse.quote(MEMBER['access'])}"):
            with self.subTest(q=q[:20]):
                self.assert401(S.get(f"{API}/auth/me?{q}"))
        # With a valid header the unknown parameter is still refused, never silently used.
        r = S.get(f"{API}/auth/me?access_token={tok}", token=MEMBER["access"])
        self.assertIn(r.status, (400, 401, 422), r)

    def test_forged_tokens_change_nothing(self):
        """A forged admin token on state-changing admin routes: 401 and no row changes."""
        before = S.fingerprint()
        forged = mint(good_claims(ADMIN), key=b"")
        r = S.post(f"{API}/users", {"email": "forged@example.com", "password": PASSWORD, "name": "f"}, token=forged)
        self.assert401(r)
        r = S.request("PATCH", f"{API}/users/{MEMBER['user']['id']}", json_body={"role": "admin"}, token=forged)
        self.assert401(r)
        r = S.request("DELETE", f"{API}/users/{OTHER['user']['id']}", token=forged)
        self.assert401(r)
        self.assertEqual(S.fingerprint(), before)


class Revocation(Base):
    def test_a13_a14_version_and_state(self):
        user, email, _ = S.register()
        who = {"user": user}
        tok = mint(good_claims(who))
        self.assertEqual(me(tok).status, 200)
        # Deactivating the user bumps its token version and kills a minted token too.
        admin = mint(good_claims(ADMIN))
        r = S.request("PATCH", f"{API}/users/{user['id']}", json_body={"is_active": False}, token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertRefused(tok, "token of a deactivated user")
        self.assertRefused(mint(good_claims(who)), "fresh token (current tv) of a deactivated user")
        r = S.request("DELETE", f"{API}/users/{user['id']}", token=admin)
        self.assertEqual(r.status, 204, r)
        self.assertRefused(mint({**good_claims(ADMIN), "sub": user["id"], "tv": 0}), "token of a deleted user")


class ZzLogs(Base):
    def test_a29_no_secret_in_logs(self):
        logs = S.log_text()
        self.assertGreater(len(USED), 50)
        leaked = []
        for s in USED:
            if len(s) < 16 and s != PASSWORD:
                continue  # junk like "abc" is not a secret and matches hex request ids
            if s in logs:
                leaked.append(s[:24] + "…")
                continue
            # Also each JWT's signature on its own: a log that cut the token would still hold it.
            if s.count(".") == 2:
                sig = s.rsplit(".", 1)[1]
                if len(sig) >= 32 and sig in logs:
                    leaked.append("signature of " + s[:24] + "…")
        self.assertEqual(leaked, [])
        self.assertNotIn(SECRET.decode(), logs)
        access = S.log_text("nginx/logs/access.log")
        self.assertEqual([line for line in access.splitlines() if re.search(r'" 5\d\d ', line)], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
