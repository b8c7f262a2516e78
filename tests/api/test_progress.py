"""Practice progress, goals, highlights, the learning resources library and recommendations
(API.md "Practice progress, goals, recommendations"; issue 13).

Sessions and analyses are inserted as the superuser with fixed dates and metrics (the worker
is not involved): the expected figures are computed here from the same fixture list, so a
wrong aggregate, bucket edge or direction fails. One stack for the file.
"""
import json
import os
import sys
import unittest
import uuid
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
ADMIN, P, Q, A, B, NEW = {}, {}, {}, {}, {}, {}
FIXTURE = []  # (user dict, created_at, fields) for P's sessions


def pace_band(wpm):
    if wpm < 100:
        return "too_slow"
    if wpm < 120:
        return "slow"
    if wpm <= 165:
        return "good"
    return "fast" if wpm <= 180 else "too_fast"


def session_sql(user_id, at, seconds=120, wpm=140, art=160, fillers=2.0, pauses=10.0, pitch=5.0,
                overall=70, pace=80, fluency=70, clarity=70, confidence=70, title="",
                kind="practice", status="done"):
    """Statements inserting one session and its analysis, as the worker would leave them.
    `at` is a literal timestamptz or an SQL expression (now() - interval ...)."""
    sid = str(uuid.uuid4())
    metrics = {
        "duration_s": seconds, "speech_s": seconds * 0.8, "word_count": int(wpm * seconds / 60),
        "wpm": wpm, "articulation_wpm": art, "pace_band": pace_band(wpm),
        "fillers": {"count": int(fillers * seconds / 60), "per_min": fillers, "per_100_words": 1,
                    "words": {}, "clusters": 0},
        "pauses": {"count": 3, "long_count": 1, "longest_s": 1.2, "mean_s": 0.5,
                   "per_min": pauses, "long_per_min": 1},
        "pitch": {"median_hz": 180, "range_semitones": pitch, "monotone": False},
        "volume": {"mean_dbfs": -20, "variation_db": 5, "flat": False, "clipped_pct": 0},
        "confidence": 0.9, "vocabulary": {"unique_ratio": 0.6, "repeated_phrases": []},
        "hedges": {"count": 0, "words": {}, "per_100_words": 0},
        "scores": {"pace": pace, "fluency": fluency, "clarity": clarity,
                   "confidence": confidence, "overall": overall},
        "tips": [],
    }
    when = at if at.startswith("now()") else f"'{at}'::timestamptz"
    title_sql = title.replace("'", "''")
    return sid, (
        f"INSERT INTO sessions (id, user_id, kind, title, status, progress, audio_path, audio_format, "
        f"audio_mime, audio_bytes, duration_s, transcript_text, engine, created_at, updated_at) VALUES "
        f"('{sid}', '{user_id}', '{kind}', '{title_sql}', '{status}', 1, '{sid}.wav', 'wav', 'audio/wav', 0, "
        f"{seconds}, 'text', 'fixture', {when}, {when}); "
        f"INSERT INTO analyses (session_id, metrics, wpm, fillers_per_min, overall) VALUES "
        f"('{sid}', '{json.dumps(metrics)}'::jsonb, {wpm}, {fillers}, {overall});")


def add_sessions(who, rows):
    """rows: (at, fields); returns the ids in order."""
    ids, stmts = [], []
    for at, f in rows:
        sid, sql = session_sql(who["user"]["id"], at, **f)
        ids.append(sid)
        stmts.append(sql)
        who.setdefault("rows", []).append(dict(f, id=sid, at=at))
    S.sql(" ".join(stmts))
    return ids


def setUpModule():
    global S
    S = Stack("progress")
    for who in (ADMIN, P, Q, A, B, NEW):
        user, token, _ = S.new_user()
        who.update(user=user, token=token)
    assert ADMIN["user"]["role"] == "admin" and P["user"]["role"] == "member"
    # P: January fast and full of fillers, February in the pace band and fluent.
    add_sessions(P, [
        ("2026-01-05T09:00:00Z", dict(wpm=190, fillers=5.0, pauses=12, pitch=3, overall=55, seconds=300)),
        ("2026-01-06T09:00:00Z", dict(wpm=185, fillers=4.0, pauses=14, pitch=3.5, overall=58, seconds=300)),
        ("2026-01-07T09:00:00Z", dict(wpm=195, fillers=6.0, pauses=10, pitch=2.5, overall=52, seconds=300)),
        # The longest session, but too fast: not the longest one in the band.
        ("2026-01-20T09:00:00Z", dict(wpm=190, fillers=5.0, pauses=12, pitch=3, overall=50, seconds=2400,
                                      title="Long rant")),
        # A 10-second clip without fillers holds no record.
        ("2026-01-21T09:00:00Z", dict(wpm=150, fillers=0.0, pauses=6, pitch=12, overall=99, seconds=10)),
        ("2026-02-02T09:00:00Z", dict(wpm=150, fillers=2.0, pauses=8, pitch=6, overall=72, seconds=300)),
        ("2026-02-03T09:00:00Z", dict(wpm=148, fillers=1.5, pauses=7, pitch=9, overall=76, seconds=300,
                                      title="Pitch day")),
        ("2026-02-10T09:00:00Z", dict(wpm=150, fillers=0.5, pauses=6, pitch=6, overall=80, seconds=1200,
                                      title="Quarterly review")),
        # 23:30 UTC on Saturday 28 February is 01:30 on Sunday 1 March in Helsinki (UTC+2).
        ("2026-02-28T23:30:00Z", dict(wpm=152, fillers=1.0, pauses=7, pitch=7, overall=95, seconds=600,
                                      title="Final rehearsal")),
        ("2026-02-15T09:00:00Z", dict(wpm=240, fillers=9.0, pauses=30, pitch=1, overall=20, seconds=600,
                                      kind="scribe", title="Consultation")),
    ])
    # Not P's figures: a failed session of P's, and another user's done one.
    add_sessions(P, [("2026-02-11T09:00:00Z", dict(status="failed", fillers=30.0))])
    # Q: pace 100 → 130 (grows into the band: better) → 175 (grows out of it: worse).
    add_sessions(Q, [
        ("2026-01-10T09:00:00Z", dict(wpm=100)),
        ("2026-02-10T09:00:00Z", dict(wpm=130)),
        ("2026-03-10T09:00:00Z", dict(wpm=175)),
    ])
    # A: fillers rose from 2.1 to 4.8 a minute; everything else fine.
    fine = dict(wpm=150, pitch=6, overall=80, pace=90, fluency=80, clarity=80, confidence=80)
    add_sessions(A, [
        ("now() - interval '45 days'", dict(fine, fillers=2.1)),
        ("now() - interval '40 days'", dict(fine, fillers=2.1)),
        ("now() - interval '1 day'", dict(fine, fillers=4.8)),
        ("now()", dict(fine, fillers=4.8)),
    ])
    # B: fluent but slow and flat.
    add_sessions(B, [
        ("now() - interval '3 days'", dict(wpm=90, fillers=0.5, pitch=2.0, overall=72, pace=40,
                                          fluency=90, clarity=85, confidence=75)),
        ("now() - interval '2 days'", dict(wpm=92, fillers=0.4, pitch=2.2, overall=72, pace=42,
                                          fluency=90, clarity=85, confidence=75)),
    ])


def tearDownModule():
    S.stop()


def mean(xs):
    return sum(xs) / len(xs)


def rows_of(who, month=None, kind=None):
    out = [r for r in who["rows"] if r.get("status", "done") == "done"]
    if kind:
        out = [r for r in out if r.get("kind", "practice") == kind]
    if month:
        out = [r for r in out if r["at"].startswith(month)]
    return out


class ProgressCase(ApiCase):
    def progress(self, who, query="", status=200):
        r = S.get(f"{API}/progress{query}", token=who["token"])
        self.assertEqual(r.status, status, r)
        return r.json()

    def assertNear(self, got, want, msg=""):
        self.assertIsNotNone(got, msg)
        self.assertAlmostEqual(float(got), want, places=2, msg=msg)


class TestBuckets(ProgressCase):
    def test_months_in_utc_average_each_done_session_once(self):
        d = self.progress(P, "?bucket=month")
        self.assertEqual(d["bucket"], "month")
        self.assertEqual(d["tz"], "UTC")
        starts = [b["start"] for b in d["buckets"]]
        self.assertEqual(starts, ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"])
        for b, month in zip(d["buckets"], ("2026-01", "2026-02")):
            rows = rows_of(P, month)
            self.assertEqual(b["sessions"], len(rows), month)
            self.assertNear(b["minutes"], sum(r.get("seconds", 120) for r in rows) / 60, month)
            self.assertNear(b["wpm"], mean([r["wpm"] for r in rows]), month)
            self.assertNear(b["fillers_per_min"], mean([r["fillers"] for r in rows]), month)
            self.assertNear(b["pauses_per_min"], mean([r["pauses"] for r in rows]), month)
            self.assertNear(b["pitch_range_semitones"], mean([r["pitch"] for r in rows]), month)
            self.assertNear(b["overall"], mean([r["overall"] for r in rows]), month)
            self.assertNear(b["articulation_wpm"], 160, month)
            self.assertEqual(set(b["scores"]), {"pace", "fluency", "clarity", "confidence", "overall"})
            self.assertNear(b["scores"]["pace"], 80, month)
        self.assertEqual(d["buckets"][0]["label"], "January 2026")

    def test_kind_narrows_to_one_kind(self):
        d = self.progress(P, "?bucket=month&kind=practice")
        feb = d["buckets"][1]
        self.assertEqual(feb["sessions"], len(rows_of(P, "2026-02", "practice")))
        self.assertNear(feb["wpm"], mean([r["wpm"] for r in rows_of(P, "2026-02", "practice")]))
        self.assertEqual(self.progress(P, "?kind=memo")["buckets"], [])

    def test_weeks_start_on_monday(self):
        d = self.progress(P, "?bucket=week&kind=practice")
        self.assertEqual([b["date"] for b in d["buckets"]],
                         ["2026-01-05", "2026-01-19", "2026-02-02", "2026-02-09", "2026-02-23"])
        self.assertEqual(d["buckets"][0]["start"], "2026-01-05T00:00:00Z")
        self.assertEqual(d["buckets"][0]["sessions"], 3)
        self.assertEqual(d["buckets"][0]["label"], "week of 5 January 2026")

    def test_from_and_to_bound_the_sessions(self):
        d = self.progress(P, "?from=2026-02-01&to=2026-02-05")
        self.assertEqual(len(d["buckets"]), 1)
        self.assertEqual(d["buckets"][0]["sessions"], 2)

    def test_another_users_sessions_never_count(self):
        d = self.progress(NEW)
        self.assertEqual(d["buckets"], [])
        self.assertEqual(d["improvement"], {})
        self.assertEqual(d["highlights"], [])
        self.assertEqual(d["streak_days"], 0)


class TestTimeZones(ProgressCase):
    def test_2330_utc_is_the_next_day_in_utc_plus_2(self):
        utc = self.progress(P, "?kind=practice")
        self.assertEqual([b["date"] for b in utc["buckets"]], ["2026-01-01", "2026-02-01"])
        for tz in ("Europe/Helsinki", "Etc/GMT-2"):
            d = self.progress(P, f"?kind=practice&tz={quote(tz)}")
            self.assertEqual(d["tz"], tz)
            self.assertEqual([b["date"] for b in d["buckets"]],
                             ["2026-01-01", "2026-02-01", "2026-03-01"], tz)
            # Local midnight of 1 March in UTC+2 is 22:00Z the day before.
            self.assertEqual(d["buckets"][2]["start"], "2026-02-28T22:00:00Z", tz)
            self.assertEqual(d["buckets"][2]["sessions"], 1, tz)
            best = [h for h in d["highlights"] if h["metric"] == "overall"][0]
            self.assertIn("1 March 2026", best["text"], tz)
        best = [h for h in utc["highlights"] if h["metric"] == "overall"][0]
        self.assertIn("28 February 2026", best["text"])

    def test_unknown_zone_422(self):
        for tz in ("Mars/Olympus_Mons", "../../etc/passwd", "", "x" * 65, "Europe/Helsinki;"):
            r = S.get(f"{API}/progress?tz={quote(tz)}", token=P["token"])
            body = self.assertProblem(r, 422, tz)
            self.assertEqual(body["errors"][0]["field"], "tz", tz)


class TestImprovement(ProgressCase):
    def test_directions_month_over_month(self):
        imp = self.progress(P, "?kind=practice")["improvement"]
        jan, feb = rows_of(P, "2026-01", "practice"), rows_of(P, "2026-02", "practice")
        self.assertNear(imp["fillers_per_min"]["from"], mean([r["fillers"] for r in jan]))
        self.assertNear(imp["fillers_per_min"]["to"], mean([r["fillers"] for r in feb]))
        self.assertLess(float(imp["fillers_per_min"]["change"]), 0)
        self.assertTrue(imp["fillers_per_min"]["better"])  # fewer is better
        self.assertTrue(imp["pauses_per_min"]["better"])
        self.assertTrue(imp["pitch_range_semitones"]["better"])  # wider is better
        self.assertTrue(imp["overall"]["better"])
        # Pace went DOWN from ~183 to ~150: into the band, so better although it fell.
        self.assertLess(float(imp["wpm"]["change"]), 0)
        self.assertTrue(imp["wpm"]["better"])
        self.assertEqual(imp["wpm"]["direction"], "into_band")
        self.assertEqual(imp["fillers_per_min"]["direction"], "lower")

    def test_pace_that_grows_is_better_only_into_the_band(self):
        into = self.progress(Q, "?to=2026-03-01")["improvement"]["wpm"]
        self.assertGreater(float(into["change"]), 0)
        self.assertTrue(into["better"], into)  # 100 → 130
        out = self.progress(Q)["improvement"]["wpm"]
        self.assertGreater(float(out["change"]), 0)
        self.assertFalse(out["better"], out)  # 130 → 175: it grew, out of the band
        self.assertEqual(self.progress(Q, "?to=2026-02-01")["improvement"], {})


class TestHighlights(ProgressCase):
    def highlights(self, query="?kind=practice"):
        return self.progress(P, query)["highlights"]

    def one(self, hs, kind, metric):
        found = [h for h in hs if h["kind"] == kind and h["metric"] == metric]
        self.assertEqual(len(found), 1, (kind, metric, hs))
        return found[0]

    def id_of(self, title):
        return [r["id"] for r in P["rows"] if r.get("title") == title][0]

    def test_personal_bests_point_at_their_sessions(self):
        hs = self.highlights()
        fewest = self.one(hs, "personal_best", "fillers_per_min")
        self.assertEqual(fewest["session_id"], self.id_of("Quarterly review"))  # not the 10 s clip
        self.assertNear(fewest["value"], 0.5)
        self.assertIn("fewest fillers", fewest["text"])
        self.assertIn("Quarterly review", fewest["text"])
        self.assertIn("10 February 2026", fewest["text"])
        best = self.one(hs, "personal_best", "overall")
        self.assertEqual(best["session_id"], self.id_of("Final rehearsal"))
        self.assertNear(best["value"], 95)
        widest = self.one(hs, "personal_best", "pitch_range_semitones")
        self.assertEqual(widest["session_id"], self.id_of("Pitch day"))
        longest = self.one(hs, "personal_best", "duration_s")
        self.assertEqual(longest["session_id"], self.id_of("Quarterly review"))  # not "Long rant"
        self.assertNear(longest["value"], 1200)
        self.assertIn("20.0 minutes", longest["text"])

    def test_streaks_of_days_and_weeks(self):
        hs = self.highlights()
        days = self.one(hs, "streak", "streak_days")
        self.assertEqual(days["value"], 3.0)
        self.assertIn("3 days in a row", days["text"])
        self.assertIn("5 January 2026 to 7 January 2026", days["text"])
        self.assertEqual(days["session_id"], P["rows"][2]["id"])
        weeks = self.one(hs, "streak", "streak_weeks")
        self.assertEqual(weeks["value"], 2.0)  # the weeks of 2 and 9 February (not 23 February)
        self.assertIn("2 weeks in a row, from 2 February 2026 to 15 February 2026", weeks["text"])

    def test_current_streak_reaches_today(self):
        self.assertEqual(self.progress(A)["streak_days"], 2)
        self.assertEqual(self.progress(P)["streak_days"], 0)

    def test_every_highlight_has_the_documented_shape(self):
        for h in self.highlights():
            self.assertEqual(set(h), {"kind", "session_id", "metric", "value", "text"})
            self.assertTrue(h["text"].endswith("."), h)


class TestGoals(ProgressCase):
    def put(self, who, goals):
        return S.request("PUT", f"{API}/me/goals", json_body=goals, token=who["token"])

    def test_goals_round_trip_and_are_judged_per_bucket(self):
        goals = [{"metric": "fillers_per_min", "target": 3, "direction": "at_most"},
                 {"metric": "overall", "target": 90, "direction": "at_least"},
                 {"metric": "sessions", "target": 3, "direction": "at_least"}]
        r = self.put(P, goals)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(g["metric"], g["direction"]) for g in r.json()],
                         [(g["metric"], g["direction"]) for g in goals])
        got = S.get(f"{API}/me/goals", token=P["token"]).json()
        self.assertEqual([float(g["target"]) for g in got], [3.0, 90.0, 3.0])
        d = self.progress(P, "?kind=practice")
        status = {g["metric"]: g for g in d["goals"]}
        self.assertTrue(status["fillers_per_min"]["met"])
        self.assertFalse(status["overall"]["met"])
        self.assertTrue(status["sessions"]["met"])
        self.assertNear(status["sessions"]["value"], 4)
        jan = {g["metric"]: g for g in d["buckets"][0]["goals"]}
        self.assertFalse(jan["fillers_per_min"]["met"])  # January was over 3 a minute
        met = [h for h in d["highlights"] if h["kind"] == "goal_met"]
        self.assertEqual(sorted(h["metric"] for h in met), ["fillers_per_min", "sessions"])
        text = [h["text"] for h in met if h["metric"] == "fillers_per_min"][0]
        self.assertIn("at most 3.0 fillers per minute in February 2026", text)
        # Another user's goals are their own.
        self.assertEqual(S.get(f"{API}/me/goals", token=Q["token"]).json(), [])
        # An empty list removes them.
        self.assertEqual(self.put(NEW, []).json(), [])


class TestRecommendations(ProgressCase):
    def recs(self, who):
        r = S.get(f"{API}/recommendations", token=who["token"])
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def test_they_follow_the_weakest_metric_and_say_why(self):
        a, b = self.recs(A), self.recs(B)
        self.assertTrue(a and b)
        self.assertEqual(a[0]["metric"], "fillers_per_min", a[0])
        self.assertIn("rose from 2.1 to 4.8 this month", a[0]["reason"])
        self.assertIn("fillers_per_min", a[0]["resource"]["tags"])
        self.assertIn(b[0]["metric"], ("wpm", "pace", "pitch_range_semitones"), b[0])
        self.assertNotEqual([x["resource"]["id"] for x in a[:3]], [x["resource"]["id"] for x in b[:3]])
        self.assertNotIn("fillers_per_min", {x["metric"] for x in b})
        slow = [x for x in b if x["metric"] == "wpm"][0]
        self.assertIn("below the 120", slow["reason"])
        for x in a + b:
            self.assertEqual(set(x), {"resource", "reason", "metric"})
            self.assertTrue(set(x["resource"]) >= {"id", "title", "url", "kind", "tags"})

    def test_without_sessions_the_all_round_ones(self):
        items = self.recs(NEW)
        self.assertTrue(items)
        for x in items:
            self.assertEqual(x["metric"], "overall")
            self.assertIn("overall", x["resource"]["tags"])
            self.assertIn("no finished sessions", x["reason"])


class TestResources(ProgressCase):
    def all_resources(self, who, query=""):
        out, cursor = [], None
        while True:
            q = f"?limit=7{query}" + (f"&cursor={cursor}" if cursor else "")
            r = S.get(f"{API}/resources{q}", token=who["token"])
            self.assertEqual(r.status, 200, r)
            out += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if not cursor:
                return out

    def test_seeded_library_pages_and_filters(self):
        items = self.all_resources(P)
        self.assertGreaterEqual(len(items), 20)
        self.assertEqual(len({x["id"] for x in items}), len(items))
        for x in items:
            self.assertTrue(x["url"].startswith("https://"), x)
            self.assertIn(x["kind"], ("article", "video", "exercise", "course"))
            self.assertTrue(x["tags"], x)
        videos = self.all_resources(P, "&kind=video")
        self.assertTrue(videos and all(x["kind"] == "video" for x in videos))
        star = self.all_resources(P, "&tag=structure")
        self.assertTrue(star and all("structure" in x["tags"] for x in star))
        self.assertLess(len(star), len(items))

    def test_admin_writes_member_403(self):
        body = {"title": "Practice with a metronome", "url": "https://example.org/metronome",
                "kind": "exercise", "tags": ["wpm", "pace", "wpm"]}
        before = S.fingerprint()
        r = S.post(f"{API}/resources", body, token=P["token"])
        self.assertProblem(r, 403)
        self.assertEqual(S.fingerprint(), before)
        r = S.post(f"{API}/resources", body, token=ADMIN["token"])
        self.assertEqual(r.status, 201, r)
        made = r.json()
        self.assertEqual(made["tags"], ["wpm", "pace"])
        self.assertEqual(r.header("location"), f"{API}/resources/{made['id']}")
        self.assertProblem(S.post(f"{API}/resources", body, token=ADMIN["token"]), 409)
        path = f"{API}/resources/{made['id']}"
        self.assertEqual(S.get(path, token=P["token"]).json(), made)  # everyone reads the library
        before = S.fingerprint()
        self.assertProblem(S.request("PATCH", path, json_body={"title": "x"}, token=P["token"]), 403)
        self.assertProblem(S.request("DELETE", path, token=P["token"]), 403)
        self.assertEqual(S.fingerprint(), before)
        r = S.request("PATCH", path, json_body={"tags": ["fluency"], "kind": "course"}, token=ADMIN["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["tags"], r.json()["kind"], r.json()["title"]),
                         (["fluency"], "course", body["title"]))
        ids = {x["id"] for x in self.all_resources(P, "&tag=fluency")}
        self.assertIn(made["id"], ids)
        self.assertEqual(S.request("DELETE", path, token=ADMIN["token"]).status, 204)
        self.assertProblem(S.request("DELETE", path, token=ADMIN["token"]), 404)
        self.assertProblem(S.get(path, token=P["token"]), 404)
        self.assertProblem(S.request("PATCH", path, json_body={"title": "y"}, token=ADMIN["token"]), 404)


class TestMalformed(ProgressCase):
    def test_malformed_requests_change_nothing(self):
        S.request("PUT", f"{API}/me/goals", token=B["token"],
                  json_body=[{"metric": "wpm", "target": 120, "direction": "at_least"}])
        rid = S.get(f"{API}/resources?limit=1", token=B["token"]).json()["items"][0]["id"]
        g = lambda **kw: dict({"metric": "fillers_per_min", "target": 3, "direction": "at_most"}, **kw)  # noqa: E731
        res = {"title": "T", "url": "https://example.org/t", "kind": "article", "tags": []}
        cases = [
            # (method, path, body, token, status, field)
            ("GET", "/progress?tz=Atlantis/Capital", None, B, 422, "tz"),
            ("GET", "/progress?bucket=day", None, B, 400, "bucket"),
            ("GET", "/progress?from=yesterday", None, B, 400, "from"),
            ("GET", "/progress?from=2026-03-01&to=2026-02-01", None, B, 422, "to"),
            ("GET", "/progress?kind=podcast", None, B, 400, "kind"),
            ("GET", "/progress?colour=red", None, B, 422, None),
            ("GET", "/resources?tag=charisma", None, B, 400, "tag"),
            ("GET", "/resources?limit=0", None, B, (400, 422), None),
            ("PUT", "/me/goals", g(), B, 400, None),
            ("PUT", "/me/goals", [g(metric="charisma")], B, 422, "[0].metric"),
            ("PUT", "/me/goals", [g(), g(target=-1, metric="overall")], B, 422, "[1].target"),
            ("PUT", "/me/goals", [g(target=61)], B, 422, "[0].target"),
            ("PUT", "/me/goals", [g(target="3")], B, 400, "[0].target"),
            ("PUT", "/me/goals", [g(direction="sideways")], B, 422, "[0].direction"),
            ("PUT", "/me/goals", [{"metric": "wpm", "direction": "at_most"}], B, 422, "[0].target"),
            ("PUT", "/me/goals", [g(), g(target=2)], B, 422, "[1].metric"),
            ("PUT", "/me/goals", [g(note="x")], B, 400, "[0].note"),
            ("PUT", "/me/goals", [g(metric=m) for m in ("wpm", "articulation_wpm", "fillers_per_min",
                                                        "pauses_per_min", "pitch_range_semitones", "overall",
                                                        "pace", "fluency", "clarity", "confidence", "sessions")],
             B, 422, None),
            ("PUT", "/me/goals", ["fillers"], B, 400, "[0]"),
            ("POST", "/resources", dict(res, url="ftp://example.org/x"), ADMIN, 422, "url"),
            ("POST", "/resources", dict(res, url="https:// spaced.example"), ADMIN, 422, "url"),
            ("POST", "/resources", dict(res, tags=["charisma"]), ADMIN, 422, "tags[0]"),
            ("POST", "/resources", dict(res, tags="wpm"), ADMIN, 400, "tags"),
            ("POST", "/resources", dict(res, tags=[3]), ADMIN, 400, "tags[0]"),
            ("POST", "/resources", dict(res, tags=["wpm"] * 13), ADMIN, 422, "tags"),
            ("POST", "/resources", {k: v for k, v in res.items() if k != "title"}, ADMIN, 422, "title"),
            ("POST", "/resources", dict(res, title="x" * 201), ADMIN, 422, "title"),
            ("POST", "/resources", dict(res, kind="podcast"), ADMIN, 422, "kind"),
            ("POST", "/resources", dict(res, id=str(uuid.uuid4())), ADMIN, 400, None),
            ("PATCH", f"/resources/{rid}", {"kind": "podcast"}, ADMIN, 422, "kind"),
            ("PATCH", f"/resources/{uuid.uuid4()}", {"title": "x"}, ADMIN, 404, None),
            ("PATCH", "/resources/not-a-uuid", {"title": "x"}, ADMIN, (400, 404, 422), None),
        ]
        self.assertGreaterEqual(len(cases), 25)
        before = S.fingerprint()
        for method, path, body, who, status, field in cases:
            r = S.request(method, API + path, json_body=body, token=who["token"])
            problem = self.assertProblem(r, status, f"{method} {path} {body}")
            if field:
                fields = [e.get("field") for e in problem.get("errors", [])]
                self.assertIn(field, fields, f"{method} {path} {body}: {problem}")
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(S.get(f"{API}/me/goals", token=B["token"]).json()[0]["metric"], "wpm")


class TestMigration(ProgressCase):
    def test_report_columns_follow_the_stored_metrics(self):
        """Generated from the metrics: a re-analysis (an upsert of metrics) refreshes them, and
        an old document without some field leaves them NULL instead of failing."""
        sid = P["rows"][0]["id"]
        row = S.sql(f"SELECT articulation_wpm, pauses_per_min, pitch_range_semitones, pace_band, "
                    f"score_fluency FROM analyses WHERE session_id = '{sid}'")[0]
        self.assertEqual(row, ["160", "12", "3", "too_fast", "70"])
        S.sql(f"UPDATE analyses SET metrics = jsonb_set(metrics, '{{pauses,per_min}}', '4.5') "
              f"WHERE session_id = '{sid}'")
        self.assertEqual(S.sql(f"SELECT pauses_per_min FROM analyses WHERE session_id = '{sid}'"),
                         [["4.5"]])
        S.sql(f"UPDATE analyses SET metrics = jsonb_set(metrics, '{{pauses,per_min}}', '12') "
              f"WHERE session_id = '{sid}'")
        self.assertEqual(S.sql("SELECT analysis_number('{\"a\": \"x\"}'::jsonb, 'a') IS NULL, "
                               "analysis_number('{\"a\": {\"b\": 2}}'::jsonb, 'a', 'b')"), [["t", "2"]])


if __name__ == "__main__":
    unittest.main()
