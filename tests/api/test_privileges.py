"""Privileges (issue 9, items 1, 13 and the key file of 22): who can reach what on the machine.

- The embedded PostgreSQL admits nobody but the stack: another local account (made here with
  useradd) and nginx's www-data cannot reach its socket, and the service user can log in only
  as the application role.
- The daemons log in as the application role, which can do DML on its tables and nothing else:
  no CREATE EXTENSION, COPY ... TO PROGRAM, DDL (CREATE/ALTER/DROP/TRUNCATE), temporary tables,
  rewriting stored events, reading pg_authid or becoming another role. Tables a later migration
  creates are granted to it by the owner's default privileges.
- Recordings are 0640 in a 2750 directory of nginx's group (nginx still serves the download),
  audio/tmp and the logs are closed to other users, and under root the api, worker and live
  processes (masters and children) run with non-zero ids.
- The daemons refuse a JWT key file that its group or others can read.

One stack with its own embedded cluster (DATA/pg), as `make run` starts it.
"""
import glob
import os
import pwd
import grp
import secrets
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
AS_ROOT = os.geteuid() == 0
SERVICE_USER = os.environ.get("ROSTRUM_SERVICE_USER", "rostrum") if AS_ROOT else pwd.getpwuid(os.getuid()).pw_name
APP_ROLE = "rostrum_app"
OWNER_ROLE = "rostrum_owner"
SUPERUSER = pwd.getpwuid(os.getuid()).pw_name  # the cluster's bootstrap superuser
WAV = os.path.join(stack.SOURCE, "tests", "fixtures", "audio", "tone440_1s.wav")


def setUpModule():
    global S
    S = Stack("privileges", embedded_pg=True)


def tearDownModule():
    S.stop()


def psql_as(os_user, role, sql):
    """psql on the embedded cluster's socket as OS user `os_user` asking for `role`; the
    CompletedProcess (stderr carries the SQLSTATE: VERBOSITY=verbose)."""
    cmd = [stack.PSQL, "-h", f"{S.dir}/pg/run", "-U", role, "-d", "rostrum", "-AtXq",
           "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-c", sql]
    if AS_ROOT and os_user != "root":
        cmd = ["runuser", "-u", os_user, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def app_sql(sql):
    return psql_as(SERVICE_USER, APP_ROLE, sql)


def mode(path):
    return os.stat(path).st_mode & 0o7777


@unittest.skipUnless(AS_ROOT, "needs root: useradd, and the service user to switch to")
class LocalUsers(ApiCase):
    def setUp(self):
        self.stranger = f"rtest{secrets.token_hex(3)}"
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        self.stranger], check=True)
        self.addCleanup(subprocess.run, ["userdel", self.stranger], check=True)

    def test_other_local_users_cannot_reach_the_cluster(self):
        for user in (self.stranger, "www-data"):
            for role in (SUPERUSER, OWNER_ROLE, APP_ROLE, user):
                r = psql_as(user, role, "SELECT 1")
                self.assertNotEqual(r.returncode, 0, f"{user} connected as {role}: {r.stdout}")
                self.assertIn("Permission denied", r.stderr, f"{user} as {role}")

    def test_the_service_user_is_only_the_application_role(self):
        for role in (SUPERUSER, OWNER_ROLE, "postgres"):
            r = psql_as(SERVICE_USER, role, "SELECT 1")
            self.assertNotEqual(r.returncode, 0, f"{SERVICE_USER} connected as {role}")
            self.assertIn("authentication failed", r.stderr, role)
        r = app_sql("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, f"{APP_ROLE}|f"), r.stderr)


class ApplicationRole(ApiCase):
    def test_daemons_log_in_as_the_application_role(self):
        """Every connection of every daemon, the LISTEN ones (their own libpq code) included."""
        want = {"api", "worker", "worker-heartbeat", "worker-listen", "live-listen"}
        rows = []

        def connected():
            rows[:] = S.sql("SELECT application_name, usename FROM pg_stat_activity "
                            "WHERE datname = 'rostrum' AND application_name ~ '^(api|worker|live)'")
            return want <= {a.rsplit("-", 1)[0] for a, _ in rows}
        S.wait_until(connected, 30, what=f"connections named {sorted(want)}")
        for app, user in rows:
            self.assertEqual(user, APP_ROLE, app)

    def test_application_role_may_do_nothing_but_dml(self):
        S.new_user()  # a row to try to rewrite
        attempts = {
            "create extension": "CREATE EXTENSION pg_stat_statements",
            "trusted extension": "CREATE EXTENSION pgcrypto",
            "copy to program": "COPY (SELECT 1) TO PROGRAM 'id'",
            "copy from program": "COPY workers (name) FROM PROGRAM 'echo x'",
            "copy to file": "COPY users TO '/tmp/rostrum-users'",
            "create table": "CREATE TABLE stolen (x int)",
            "create temp table": "CREATE TEMP TABLE stolen (x int)",
            "create function": "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1",
            "alter table": "ALTER TABLE users ADD COLUMN x int",
            "disable trigger": "ALTER TABLE sessions DISABLE TRIGGER ALL",
            "drop table": "DROP TABLE events",
            "truncate": "TRUNCATE events",
            "rewrite an event": "UPDATE events SET data = '{}'",
            "schema_migrations": "DELETE FROM schema_migrations",
            "read pg_authid": "SELECT rolpassword FROM pg_authid",
            "become the owner": f"SET ROLE {OWNER_ROLE}",
            "grant itself the owner": f"GRANT {OWNER_ROLE} TO {APP_ROLE}",
            "become superuser": f"ALTER ROLE {APP_ROLE} SUPERUSER",
            "read a file": "SELECT pg_read_file('/etc/passwd')",
        }
        for what, sql in attempts.items():
            r = app_sql(sql)
            self.assertNotEqual(r.returncode, 0, f"the application role could {what}: {sql}")
            # 42501 insufficient_privilege; not a syntax error or a failed connection.
            self.assertIn("42501", r.stderr, f"{what}: {r.stderr}")
        # ... and still does what the code does.
        r = app_sql("SELECT count(*) > 0 FROM users")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "t"), r.stderr)
        r = app_sql("DELETE FROM events WHERE at < now() - interval '1 year'")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_tables_of_later_migrations_are_granted(self):
        """A later migration (run as the owner, like migrate does) repeats no GRANT."""
        S.sql(f"BEGIN; SET LOCAL ROLE {OWNER_ROLE}; "
              "CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY, x int); COMMIT")
        self.addCleanup(S.sql, "DROP TABLE later_table")
        r = app_sql("INSERT INTO later_table (x) VALUES (1); UPDATE later_table SET x = 2; "
                    "SELECT x FROM later_table; DELETE FROM later_table")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "2"), r.stderr)
        r = app_sql("DROP TABLE later_table")
        self.assertIn("42501", r.stderr)
        owner = S.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'later_table'")
        self.assertEqual(owner, [[OWNER_ROLE]])

    def test_the_schema_is_the_owners(self):
        rows = S.sql("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
        self.assertTrue(rows)
        for table, owner in rows:
            self.assertEqual(owner, OWNER_ROLE, table)
        self.assertEqual(S.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'"),
                         [[OWNER_ROLE]])
        self.assertEqual(S.sql("SELECT datdba::regrole FROM pg_database WHERE datname = 'rostrum'"),
                         [[OWNER_ROLE]])
        # PUBLIC keeps no CONNECT or TEMP on the database.
        self.assertEqual(S.sql("SELECT count(*) FROM pg_database, aclexplode(datacl) a "
                               "WHERE datname = 'rostrum' AND a.grantee = 0"), [["0"]])


class Files(ApiCase):
    def test_recordings_are_closed_to_other_users(self):
        _, token, _ = S.new_user()
        with open(WAV, "rb") as f:
            data = f.read()
        r = S.request("POST", "/api/v1/sessions", body=data, content_type="audio/wav", token=token)
        self.assertEqual(r.status, 202, r)
        sid = r.json()["id"]
        files = [n for n in S.audio_files() if n.startswith(sid)]
        self.assertEqual(len(files), 1, S.audio_files())
        path = os.path.join(S.dir, "audio", files[0])
        self.assertEqual(mode(path), 0o640, path)
        self.assertEqual(mode(os.path.join(S.dir, "audio")) & 0o7007, 0o2000 if AS_ROOT else 0)
        self.assertEqual(mode(os.path.join(S.dir, "audio", "tmp")) & 0o007, 0)
        if AS_ROOT:
            st = os.stat(path)
            self.assertEqual(grp.getgrgid(st.st_gid).gr_name, "www-data", path)
            self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, SERVICE_USER, path)
        # nginx (www-data under root) still serves it, through its group.
        r = S.get(f"/api/v1/sessions/{sid}/audio", token=token)
        self.assertEqual((r.status, r.body), (200, data))

    def test_logs_and_secrets_are_not_world_readable(self):
        S.get("/readyz")
        logs = glob.glob(os.path.join(S.dir, "log", "*.log")) + glob.glob(os.path.join(S.dir, "nginx", "logs", "*.log"))
        self.assertTrue(len(logs) >= 5, logs)
        for p in logs:
            self.assertEqual(mode(p) & 0o007, 0, p)
        self.assertEqual(mode(os.path.join(S.dir, "secrets", "jwt.key")), 0o600)
        self.assertEqual(mode(os.path.join(S.dir, "pg")) & 0o007, 0)
        self.assertEqual(mode(os.path.join(S.dir, "pg", "run")) & 0o007, 0)

    @unittest.skipUnless(AS_ROOT, "the service user is only switched to from root")
    def test_daemons_do_not_run_as_root(self):
        pids = {}
        for name in ("api", "worker", "live"):
            with open(os.path.join(S.dir, "run", f"{name}.pid")) as f:
                master = int(f.read())
            children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
            pids[name] = [master] + [int(c) for c in children]
        self.assertGreaterEqual(len(pids["api"]), 3, pids)  # the master and 2 workers
        self.assertGreaterEqual(len(pids["worker"]), 2, pids)  # the master and a decoder
        want = pwd.getpwnam(SERVICE_USER)
        for name, group in pids.items():
            for pid in group:
                with open(f"/proc/{pid}/status") as f:
                    status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
                uids = [int(x) for x in status["Uid"].split()]
                gids = [int(x) for x in status["Gid"].split()]
                groups = [int(x) for x in status["Groups"].split()]
                self.assertEqual(uids, [want.pw_uid] * 4, f"{name} {pid}: {status['Uid']}")
                self.assertEqual(gids, [want.pw_gid] * 4, f"{name} {pid}: {status['Gid']}")
                self.assertNotIn(0, groups, f"{name} {pid}")


class KeyFile(ApiCase):
    def test_a_key_file_open_to_others_is_refused(self):
        key = os.path.join(S.dir, "secrets", "jwt.key")
        with open(key) as f:
            before = f.read()
        os.chmod(key, 0o644)
        self.addCleanup(os.chmod, key, 0o600)
        env = dict(S.env, ROSTRUM_LIVE_SOCKET=os.path.join(S.dir, "run", "second-live.sock"))
        try:
            r = subprocess.run([stack.BIN, "live"], env=env, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("rostrum live started with a world-readable key file")
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("jwt.secret_file", r.stderr)
        self.assertIn("0644", r.stderr)
        with open(key) as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    unittest.main()
