"""GET /api/v1/events: the event stream without WebSockets (API.md "WebSocket"), through nginx:
a page of the caller's stored events, a long poll (wait_s), Server-Sent Events with
Last-Event-ID, the bound on waiting workers, and its refusals."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None


def setUpModule():
    global S
    # Two API workers (the harness's), at most one of them waiting: the bound is reachable.
    S = Stack("events_http", ROSTRUM_EVENTS_MAX_WAITING="1")


def tearDownModule():
    S.stop()


def make_task(token, title):
    r = S.post("/api/v1/tasks", json_body={"title": title}, token=token)
    assert r.status == 201, r
    return r.json()["id"]


def events(token, query="", headers=None, timeout=30):
    return S.get("/api/v1/events" + query, token=token, headers=headers, timeout=timeout)


def waiting_requests():
    """GET /events requests holding a LISTEN connection right now (application api-events)."""
    return int(S.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '%api-events%'")[0][0])


def parse_sse(text):
    """[(id, event, data)] and the retry value of a text/event-stream body."""
    messages, retry = [], None
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "retry" in fields:
            retry = int(fields["retry"])
        if "id" in fields:
            messages.append((int(fields["id"]), fields["event"], fields["data"]))
    return messages, retry


class Events(ApiCase):
    @classmethod
    def setUpClass(cls):
        cls.alice, cls.token, _ = S.new_user()
        cls.bob, cls.bob_token, _ = S.new_user()

    def test_page_is_the_stored_events_in_seq_order(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        ids = [make_task(self.token, f"page {i}") for i in range(3)]
        r = events(self.token, f"?since={since}")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual([e["event"] for e in body["items"]], ["task.created"] * 3)
        self.assertEqual([e["data"]["task_id"] for e in body["items"]], ids)
        seqs = [e["seq"] for e in body["items"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(body["next_since"], seqs[-1])
        stored = [int(row[0]) for row in S.sql(
            f"SELECT seq FROM events WHERE user_id = '{self.alice['id']}' AND seq > {since} ORDER BY seq")]
        self.assertEqual(seqs, stored, "the same seq as /ws/events replays")
        # Paging: limit, then the rest from next_since.
        first = events(self.token, f"?since={since}&limit=2").json()
        rest = events(self.token, f"?since={first['next_since']}").json()
        self.assertEqual([e["seq"] for e in first["items"] + rest["items"]], seqs)
        self.assertEqual(events(self.token, f"?since={seqs[-1]}").json(),
                         {"items": [], "next_since": seqs[-1]})

    def test_only_the_callers_events(self):
        make_task(self.token, "alice's")
        theirs = events(self.bob_token, "?limit=100").json()["items"]
        self.assertFalse([e for e in theirs if e["data"].get("task_id") and e["event"].startswith("task.")
                          and S.sql(f"SELECT created_by FROM tasks WHERE id = '{e['data']['task_id']}'")[0][0]
                          != self.bob["id"]])

    def test_long_poll_answers_when_the_event_arrives(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        out = {}

        def poll():
            t0 = time.monotonic()
            out["r"] = events(self.token, f"?since={since}&wait_s=20")
            out["s"] = time.monotonic() - t0
        t = threading.Thread(target=poll)
        t.start()
        S.wait_until(lambda: waiting_requests() == 1, what="the long poll to wait")
        task = make_task(self.token, "wakes the poll")
        t.join(30)
        self.assertEqual(out["r"].status, 200, out["r"])
        self.assertEqual([e["data"]["task_id"] for e in out["r"].json()["items"]], [task])
        self.assertLess(out["s"], 15, "answered at the event, not at wait_s")

    def test_long_poll_times_out_empty(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        t0 = time.monotonic()
        r = events(self.token, f"?since={since}&wait_s=1")
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(r.json(), {"items": [], "next_since": since})

    def test_another_users_event_does_not_end_the_wait(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        out = {}
        t = threading.Thread(target=lambda: out.update(r=events(self.token, f"?since={since}&wait_s=2")))
        t.start()
        S.wait_until(lambda: waiting_requests() == 1, what="the long poll to wait")
        make_task(self.bob_token, "bob's, not alice's")
        t.join(30)
        self.assertEqual(out["r"].json()["items"], [])

    def test_server_sent_events_with_last_event_id(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        ids = [make_task(self.token, f"sse {i}") for i in range(2)]
        r = events(self.token, "", headers={"Accept": "text/event-stream", "Last-Event-ID": str(since)})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/event-stream"))
        self.assertEqual(r.header("cache-control"), "no-store")
        messages, retry = parse_sse(r.body.decode())
        self.assertIsNotNone(retry)
        self.assertEqual([m[1] for m in messages], ["task.created"] * 2)
        self.assertIn(ids[0], messages[0][2])
        # Reconnecting with the last id seen continues after it.
        r = events(self.token, "?wait_s=0", headers={"Accept": "text/event-stream",
                                                     "Last-Event-ID": str(messages[0][0])})
        self.assertEqual([m[0] for m in parse_sse(r.body.decode())[0]], [messages[1][0]])
        # since wins over Last-Event-ID.
        r = events(self.token, f"?since={messages[1][0]}&wait_s=0",
                   headers={"Accept": "text/event-stream", "Last-Event-ID": "0"})
        self.assertEqual(parse_sse(r.body.decode())[0], [])

    def test_waiting_beyond_the_bound(self):
        since = events(self.token, "?limit=100").json()["next_since"]
        out = {}
        t = threading.Thread(target=lambda: out.update(r=events(self.token, f"?since={since}&wait_s=20")))
        t.start()
        try:
            S.wait_until(lambda: waiting_requests() == 1, what="the first long poll to wait")
            t0 = time.monotonic()
            r = events(self.bob_token, "?since=999999999&wait_s=20")
            self.assertProblem(r, 429)
            self.assertEqual(r.header("retry-after"), "5")
            self.assertLess(time.monotonic() - t0, 5, "refused at once")
            sse = events(self.bob_token, "?since=999999999", headers={"Accept": "text/event-stream"})
            self.assertEqual(sse.status, 200)
            self.assertEqual(parse_sse(sse.body.decode()), ([], 5000))
            # Not waiting, a page is always served.
            self.assertEqual(events(self.bob_token, "?since=999999999").status, 200)
        finally:
            make_task(self.token, "releases the first poll")
            t.join(30)
        self.assertEqual(out["r"].status, 200)

    def test_refusals(self):
        for query, status in (("?wait_s=26", 400), ("?wait_s=-1", 400), ("?since=-1", 400),
                              ("?since=abc", 400), ("?limit=0", 400), ("?limit=101", 400),
                              ("?wait=1", 422), ("?since=1e3", 400)):
            self.assertProblem(events(self.token, query), status, query)
        self.assertProblem(S.get("/api/v1/events"), 401)
        self.assertProblem(S.request("POST", "/api/v1/events", token=self.token), 405)
        # A Last-Event-ID that is not a seq starts from the beginning instead of failing.
        r = events(self.token, "?wait_s=0", headers={"Accept": "text/event-stream", "Last-Event-ID": "x"})
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    unittest.main()
