"""The tracker's reports (issue 11): progress, cumulative flow, team performance and workload,
every figure compared with values worked out by hand from one scenario with known timestamps.

The scenario is written straight into the database as the superuser, with triggers off
(session_replication_role = replica) so that the tasks' creation times and the status history
are exactly the ones below, not now(). Project P (owner Olga, members Mia and Ned), week of
Monday 2026-03-02, all times UTC:

  task  assignee  prio    due          history                                         now
  t7    Mia       medium  -            todo 02-20 00:00, done 02-25 00:00              done
  t8    Mia       medium  -            todo 03-01 00:00, in_progress 03-02 12:00,
                                       done 03-04 12:00, review 03-05 12:00            review
  t1    Mia       high    2026-03-10   todo 03-02 01:00, in_progress 03-03 09:00,
                                       review 03-04 09:00, done 03-05 09:00            done
  t2    Mia       urgent  -            todo 03-02 02:00, in_progress 03-03 10:00,
                                       done 03-06 10:00                                done
  t3    Olga      medium  -            todo 03-02 03:00, done 03-04 03:00              done
  t4    Mia       low     2026-03-01   todo 03-03 00:00, in_progress 03-05 00:00      in_progress
  t5    -         medium  today        todo 03-04 12:00                                todo
  t6    Olga      high    2026-03-07   todo 03-05 00:00, review 03-06 00:00            review
  t9    -         low     -            todo 03-06 06:00                                todo

Project Q (owner Olga) has no task. Also: a stranger, and the admin (the first account).
"""
import datetime
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
U = {}  # name -> (user, token)
P, Q = str(uuid.uuid4()), str(uuid.uuid4())
TODAY = datetime.datetime.now(datetime.timezone.utc).date().isoformat()

# (task, assignee, priority, due date, [(status, at)...]); the last status is the current one.
TASKS = [
    ("t7", "mia", "medium", None, [("todo", "2026-02-20 00:00"), ("done", "2026-02-25 00:00")]),
    ("t8", "mia", "medium", None, [("todo", "2026-03-01 00:00"), ("in_progress", "2026-03-02 12:00"),
                                   ("done", "2026-03-04 12:00"), ("review", "2026-03-05 12:00")]),
    ("t1", "mia", "high", "2026-03-10", [("todo", "2026-03-02 01:00"), ("in_progress", "2026-03-03 09:00"),
                                         ("review", "2026-03-04 09:00"), ("done", "2026-03-05 09:00")]),
    ("t2", "mia", "urgent", None, [("todo", "2026-03-02 02:00"), ("in_progress", "2026-03-03 10:00"),
                                   ("done", "2026-03-06 10:00")]),
    ("t3", "olga", "medium", None, [("todo", "2026-03-02 03:00"), ("done", "2026-03-04 03:00")]),
    ("t4", "mia", "low", "2026-03-01", [("todo", "2026-03-03 00:00"), ("in_progress", "2026-03-05 00:00")]),
    ("t5", None, "medium", TODAY, [("todo", "2026-03-04 12:00")]),
    ("t6", "olga", "high", "2026-03-07", [("todo", "2026-03-05 00:00"), ("review", "2026-03-06 00:00")]),
    ("t9", None, "low", None, [("todo", "2026-03-06 06:00")]),
]


def q(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def setUpModule():
    global S
    S = Stack("reports")
    for name in ("admin", "olga", "mia", "ned", "stranger"):
        user, token, _ = S.new_user(name=name.capitalize())
        U[name] = (user, token)
    assert U["admin"][0]["role"] == "admin"
    uid = {n: U[n][0]["id"] for n in U}
    sql = ["SET session_replication_role = replica;",
           f"INSERT INTO projects (id, owner_id, name) VALUES ({q(P)}, {q(uid['olga'])}, 'P'), "
           f"({q(Q)}, {q(uid['olga'])}, 'Q');",
           f"INSERT INTO project_members (project_id, user_id) VALUES ({q(P)}, {q(uid['mia'])}), "
           f"({q(P)}, {q(uid['ned'])});"]
    positions = {}
    for name, who, prio, due, hist in TASKS:
        tid = str(uuid.uuid4())
        status, last_at = hist[-1]
        pos = positions[status] = positions.get(status, -1) + 1
        done_at = last_at if status == "done" else None
        sql.append("INSERT INTO tasks (id, project_id, created_by, title, status, priority, position, "
                   "assignee_id, due_date, created_at, updated_at, completed_at) VALUES "
                   f"({q(tid)}, {q(P)}, {q(uid['olga'])}, {q(name)}, {q(status)}, {q(prio)}, {pos}, "
                   f"{q(uid[who] if who else None)}, {q(due)}, {q(hist[0][1] + 'Z')}, {q(last_at + 'Z')}, "
                   f"{q(done_at + 'Z' if done_at else None)});")
        prev = None
        for st, at in hist:
            sql.append("INSERT INTO task_status_history (task_id, project_id, from_status, to_status, at) "
                       f"VALUES ({q(tid)}, {q(P)}, {q(prev)}, {q(st)}, {q(at + 'Z')});")
            prev = st
    S.sql("\n".join(sql))


def tearDownModule():
    S.stop()


def get(path, who):
    return S.get(f"{API}{path}", token=U[who][1])


def counts(todo, in_progress, review, done):
    return {"todo": todo, "in_progress": in_progress, "review": review, "done": done}


def prios(low, medium, high, urgent):
    return {"low": low, "medium": medium, "high": high, "urgent": urgent}


class Progress(ApiCase):
    def test_every_figure(self):
        r = get(f"/projects/{P}/progress", "mia")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {
            "total": 9,
            "by_status": counts(2, 1, 2, 4),
            # 4 of 9, one decimal
            "percent_done": 44.4,
            # t4 (due 03-01) and t6 (due 03-07); not t1 (done), not t5 (due today), not t8 (no date)
            "overdue": 2,
            "by_priority": prios(2, 4, 2, 1),
        })

    def test_a_project_without_tasks_is_all_zeros(self):
        r = get(f"/projects/{Q}/progress", "olga")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"total": 0, "by_status": counts(0, 0, 0, 0), "percent_done": 0,
                                    "overdue": 0, "by_priority": prios(0, 0, 0, 0)})
        self.assertIn(b'"percent_done":0.0', r.body)


class Flow(ApiCase):
    def flow(self, query, who="mia", project=P):
        r = get(f"/projects/{project}/flow?{query}", who)
        self.assertEqual(r.status, 200, r)
        return [(b["start"], b["counts"]) for b in r.json()["buckets"]]

    def test_days_counted_as_at_each_end(self):
        self.assertEqual(self.flow("from=2026-03-02&to=2026-03-07&bucket=day"), [
            ("2026-03-02T00:00:00Z", counts(3, 1, 0, 1)),  # t4 created at 03-03 00:00 exactly: not yet
            ("2026-03-03T00:00:00Z", counts(2, 3, 0, 1)),
            ("2026-03-04T00:00:00Z", counts(2, 1, 1, 3)),
            ("2026-03-05T00:00:00Z", counts(2, 2, 1, 3)),
            ("2026-03-06T00:00:00Z", counts(2, 1, 2, 4)),
        ])

    def test_day_is_the_default_bucket_and_times_are_accepted(self):
        self.assertEqual(self.flow("from=2026-03-04T15:00:00Z&to=2026-03-05T06:00:00Z"), [
            ("2026-03-04T00:00:00Z", counts(2, 1, 1, 3)),
            # the last bucket ends after `to`: as at 03-05 06:00 (t4 started, t6 created, t1 not done)
            ("2026-03-05T00:00:00Z", counts(2, 2, 1, 3)),
        ])

    def test_weeks_start_on_monday(self):
        # 2026-02-25 is a Wednesday: its week starts on Monday 02-23.
        self.assertEqual(self.flow("from=2026-02-25&to=2026-03-04&bucket=week"), [
            ("2026-02-23T00:00:00Z", counts(1, 0, 0, 1)),  # t7 done, t8 created
            ("2026-03-02T00:00:00Z", counts(2, 3, 0, 1)),  # as at `to`, 03-04 00:00
        ])

    def test_defaults_are_the_30_days_up_to_now(self):
        buckets = self.flow("")
        self.assertIn(len(buckets), (30, 31))
        today = buckets[-1]
        self.assertEqual(today[0], TODAY + "T00:00:00Z")
        self.assertEqual(today[1], counts(2, 1, 2, 4))  # everything happened in March

    def test_an_empty_project_has_zero_buckets(self):
        self.assertEqual(self.flow("from=2026-03-02&to=2026-03-04", "olga", Q),
                         [("2026-03-02T00:00:00Z", counts(0, 0, 0, 0)),
                          ("2026-03-03T00:00:00Z", counts(0, 0, 0, 0))])

    def test_bad_windows(self):
        for query, status, field in (
                ("bucket=month", 400, "bucket"),
                ("from=2026-02-30", 400, "from"),
                ("to=yesterday", 400, "to"),
                ("from=2026-03-05&to=2026-03-05", 422, "from"),
                ("from=2026-03-06&to=2026-03-05", 422, "from"),
                ("from=2025-01-01&to=2026-03-05", 422, "from"),  # 428 days
                ("sort=start", 422, "sort")):
            with self.subTest(query=query):
                body = self.assertProblem(get(f"/projects/{P}/flow?{query}", "mia"), status, query)
                self.assertIn(field, str(body), query)
        # A year of days is the most; 428 days as weeks is fine.
        self.assertEqual(len(self.flow("from=2025-03-06&to=2026-03-06")), 365)
        self.assertEqual(len(self.flow("from=2025-01-01&to=2026-03-05&bucket=week")), 62)


class TeamPerformance(ApiCase):
    def report(self, query, who="mia"):
        r = get(f"/reports/team-performance?{query}", who)
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def test_every_figure(self):
        uid = {n: U[n][0]["id"] for n in U}
        self.assertEqual(self.report(f"project_id={P}&from=2026-03-02&to=2026-03-07"), [
            # t1, t2, t8 (t8 reopened since: it still reached done); t7 was done before the window.
            # lead: 288000 (t1), 302400 (t8), 374400 (t2): p50 302400, p90 302400 + 0.8 * 72000.
            # cycle: 172800 (t1), 172800 (t8), 259200 (t2): p50 172800, p90 172800 + 0.8 * 86400.
            {"user_id": uid["mia"], "name": "Mia", "completed": 3, "in_progress": 1,
             "lead_time_s": {"p50": 302400, "p90": 360000}, "cycle_time_s": {"p50": 172800, "p90": 241920}},
            # t3 went straight from todo to done: a lead time, no cycle time.
            {"user_id": uid["olga"], "name": "Olga", "completed": 1, "in_progress": 0,
             "lead_time_s": {"p50": 172800, "p90": 172800}, "cycle_time_s": {"p50": None, "p90": None}},
            {"user_id": uid["ned"], "name": "Ned", "completed": 0, "in_progress": 0,
             "lead_time_s": {"p50": None, "p90": None}, "cycle_time_s": {"p50": None, "p90": None}},
        ])

    def test_the_window_includes_from_and_excludes_to(self):
        items = {i["name"]: i for i in self.report(
            f"project_id={P}&from=2026-03-04T03:00:00Z&to=2026-03-06T10:00:00Z")}
        self.assertEqual(items["Olga"]["completed"], 1)  # t3 at exactly `from`
        self.assertEqual(items["Mia"]["completed"], 2)   # t8, t1; t2 at exactly `to` is out
        # t1 288000, t8 302400: p50 halfway, p90 288000 + 0.9 * 14400.
        self.assertEqual(items["Mia"]["lead_time_s"], {"p50": 295200, "p90": 300960})

    def test_default_window_is_the_last_30_days(self):
        for item in self.report(f"project_id={P}"):
            self.assertEqual(item["completed"], 0, item)  # everything was done in March
        self.assertEqual(len(self.report(f"project_id={Q}", "olga")), 1)  # the owner alone

    def test_project_id_is_required(self):
        body = self.assertProblem(get("/reports/team-performance", "admin"), 422)
        self.assertEqual([e["field"] for e in body["errors"]], ["project_id"])
        self.assertProblem(get("/reports/team-performance?project_id=nope", "mia"), 400)
        self.assertProblem(get(f"/reports/team-performance?project_id={P}&from=2026-13-01", "mia"), 400)


class Workload(ApiCase):
    def test_every_figure(self):
        uid = {n: U[n][0]["id"] for n in U}
        r = get(f"/reports/workload?project_id={P}", "olga")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {
            "items": [
                # t4 (in_progress, low, overdue), t8 (review, medium)
                {"user_id": uid["mia"], "name": "Mia", "open": 2, "overdue": 1,
                 "by_status": {"todo": 0, "in_progress": 1, "review": 1}, "by_priority": prios(1, 1, 0, 0)},
                # t6 (review, high, overdue)
                {"user_id": uid["olga"], "name": "Olga", "open": 1, "overdue": 1,
                 "by_status": {"todo": 0, "in_progress": 0, "review": 1}, "by_priority": prios(0, 0, 1, 0)},
            ],
            # t5 (due today: not overdue), t9
            "unassigned": {"open": 2, "overdue": 0, "by_status": {"todo": 2, "in_progress": 0, "review": 0},
                           "by_priority": prios(1, 1, 0, 0)},
        })

    def test_a_project_without_tasks(self):
        r = get(f"/reports/workload?project_id={Q}", "olga")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"items": [], "unassigned": {
            "open": 0, "overdue": 0, "by_status": {"todo": 0, "in_progress": 0, "review": 0},
            "by_priority": prios(0, 0, 0, 0)}})

    def test_project_id_is_required(self):
        body = self.assertProblem(get("/reports/workload", "olga"), 422)
        self.assertEqual([e["field"] for e in body["errors"]], ["project_id"])


class Access(ApiCase):
    """Route x role -> status: owner, member and admin read every report, a stranger gets 404
    exactly as for a project that does not exist."""
    ROUTES = ["/projects/{p}/progress", "/projects/{p}/flow", "/reports/team-performance?project_id={p}",
              "/reports/workload?project_id={p}"]
    EXPECTED = {"olga": 200, "mia": 200, "ned": 200, "admin": 200, "stranger": 404}

    def test_matrix(self):
        for route in self.ROUTES:
            for who, status in self.EXPECTED.items():
                with self.subTest(route=route, who=who):
                    r = get(route.format(p=P), who)
                    if status == 200:
                        self.assertEqual(r.status, 200, r)
                    else:
                        self.assertProblem(r, status, f"{who} {route}")
                        unknown = get(route.format(p=uuid.uuid4()), who)
                        self.assertProblem(unknown, 404)
                        self.assertEqual(r.json()["detail"], unknown.json()["detail"])
            with self.subTest(route=route, who="nobody"):
                self.assertProblem(S.get(f"{API}{route.format(p=P)}"), 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
