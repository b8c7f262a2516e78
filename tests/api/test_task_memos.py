"""Voice-to-tasks through nginx: POST /api/v1/tasks/from-audio stores a memo session and its
task in one transaction (202 {task, session}); the worker splits the transcribed memo into the
task's prompts, names an untitled task after the first one, logs the change as the system and
sends task.updated to the task's audience (a personal task: its creator on /ws/events; a
project's: owner and members, nobody else). A failed transcription leaves the task without
prompts and the session failed with its error. Deleting the task keeps the session; deleting
the session clears source_session_id. Every refused upload (the sessions suite's kinds) leaves
no task, no session, no file and an unchanged database.

Real recordings from the shared set (read/harvard_sentences.wav: six sentences read with
pauses; read/ps_goforward.wav: "go forward ten meters"). Nothing sleeps to synchronise: every
wait is a receive or a poll with a deadline."""
import asyncio
import gzip
import json
import os
import secrets
import signal
import struct
import subprocess
import sys
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase  # noqa: E402
from stack import BIN, Stack  # noqa: E402

import websockets  # noqa: E402

S = None
API = "/api/v1"
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.join(stack.SOURCE, "..", "shared", "data", "speech"))
HARVARD = os.path.join(SPEECH, "read", "harvard_sentences.wav")
GOFORWARD = os.path.join(SPEECH, "read", "ps_goforward.wav")
PLACEHOLDER = "Voice memo"
JOB_S = 180
U = {}        # name -> (user, token)
PROJECT = ""  # alice's project, bob a member, eve a stranger


def read(path):
    with open(path, "rb") as f:
        return f.read()


def setUpModule():
    global S, PROJECT
    if not os.path.exists(HARVARD):
        raise unittest.SkipTest(f"speech data not found at {SPEECH} (set ROSTRUM_SPEECH_DATA)")
    S = Stack("task_memos")
    for name in ("admin", "alice", "bob", "eve"):  # the first account is the admin
        user, token, _ = S.new_user(name=name)
        U[name] = (user, token)
    PROJECT = S.sql(f"INSERT INTO projects (owner_id, name) VALUES ('{uid('alice')}', 'Memos') "
                    "RETURNING id")[0][0]
    S.sql(f"INSERT INTO project_members (project_id, user_id) VALUES ('{PROJECT}', '{uid('bob')}')")


def tearDownModule():
    if S:
        S.stop()


def uid(name):
    return U[name][0]["id"]


def tok(name):
    return U[name][1]


# --- requests ------------------------------------------------------------------------------------

def part(name, data, filename=None, ctype=None):
    disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"Content-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
    return head.encode(), data if isinstance(data, bytes) else data.encode()


def file_part(data, filename="memo.wav", ctype="audio/wav"):
    return part("file", data, filename, ctype)


def multipart(parts):
    boundary = "memo" + secrets.token_hex(8)
    b = boundary.encode()
    body = b"".join(b"--" + b + b"\r\n" + h + b"\r\n" + d + b"\r\n" for h, d in parts)
    return body + b"--" + b + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def upload_multipart(parts, who="alice", token=None, headers=None):
    body, ctype = multipart(parts)
    return S.request("POST", f"{API}/tasks/from-audio", body=body, content_type=ctype,
                     token=tok(who) if token is None else token or None, headers=headers,
                     timeout=60)


def upload_raw(data, ctype="audio/wav", who="alice", token=None, headers=None, **query):
    qs = urllib.parse.urlencode(query)
    return S.request("POST", f"{API}/tasks/from-audio" + (f"?{qs}" if qs else ""), body=data,
                     content_type=ctype, token=tok(who) if token is None else token or None,
                     headers=headers, timeout=60)


def task_row(tid):
    """(title, prompts as JSON, source_session_id or '', title_from_memo) straight from the table."""
    rows = S.sql(f"SELECT title, to_json(prompts), coalesce(source_session_id::text, ''), "
                 f"title_from_memo FROM tasks WHERE id = '{tid}'")
    return (rows[0][0], json.loads(rows[0][1]), rows[0][2], rows[0][3]) if rows else None


def session_state(sid):
    rows = S.sql(f"SELECT status, coalesce(error, '') FROM sessions WHERE id = '{sid}'")
    return tuple(rows[0]) if rows else None


def wait_session(sid, want="done"):
    S.wait_until(lambda: (session_state(sid) or ("gone",))[0] in ("done", "failed", "gone")
                 or S.ensure_job_worker(), timeout=JOB_S, what=f"session {sid} to finish")
    assert session_state(sid)[0] == want, (session_state(sid), S.log_text("log/worker.log")[-2000:])


def events_of(tid, event="task.updated"):
    """{user_id: count} of the stored events about the task."""
    rows = S.sql(f"SELECT user_id, count(*) FROM events WHERE event = '{event}' "
                 f"AND data->>'task_id' = '{tid}' GROUP BY user_id")
    return {u: int(n) for u, n in rows}


def activity_of(tid):
    rows = S.sql(f"SELECT coalesce(actor_id::text, ''), action, changes FROM activity "
                 f"WHERE entity_id = '{tid}' ORDER BY seq")
    return [(a, b, json.loads(c)) for a, b, c in rows]


def counts():
    return S.sql("SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM sessions)")[0]


class Memos(ApiCase):
    def accepted(self, r):
        """202 {task, session}: the task exists at once, prompts [], linked to a queued memo."""
        self.assertEqual(r.status, 202, r)
        body = r.json()
        self.assertEqual(set(body), {"task", "session"}, body)
        task, session = body["task"], body["session"]
        self.assertEqual(task["prompts"], [], task)
        self.assertEqual(task["source_session_id"], session["id"], body)
        self.assertEqual(session["kind"], "memo", session)
        self.assertEqual(session["status"], "queued", session)
        self.assertEqual(r.header("location"), f"{API}/tasks/{task['id']}")
        self.assertIn(f"{session['id']}.wav", S.audio_files())
        return task, session

    # --- the whole way, on /ws/events -----------------------------------------------------------
    def test_personal_memo_gets_prompts_title_activity_and_task_updated_on_the_socket(self):
        async def main():
            url = f"ws://127.0.0.1:{S.port}/ws/events?token={tok('alice')}"
            async with websockets.connect(url) as ws:
                r = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: upload_multipart([file_part(read(HARVARD))]))
                task, session = self.accepted(r)
                self.assertEqual(task["title"], PLACEHOLDER)
                self.assertIsNone(task["project_id"])
                loop = asyncio.get_running_loop()
                deadline = loop.time() + JOB_S
                while True:
                    left = deadline - loop.time()
                    self.assertGreater(left, 0, "no task.updated within the deadline")
                    msg = json.loads(await asyncio.wait_for(ws.recv(), left))
                    if msg["event"] == "task.updated" and msg["data"]["task_id"] == task["id"]:
                        return task, session, msg
        task, session, msg = asyncio.run(main())
        self.assertIsNone(msg["data"]["project_id"])
        self.assertIsNone(msg["data"]["actor_id"])  # the system
        self.assertEqual(session_state(session["id"]), ("done", ""))
        got = S.get(f"{API}/tasks/{task['id']}", token=tok("alice")).json()
        # Six sentences read with a pause between each: six prompts, each capitalised.
        self.assertEqual(len(got["prompts"]), 6, got["prompts"])
        for p in got["prompts"]:
            self.assertRegex(p, r"^[A-Z][^ ]*( [^ ]+)*$")
        self.assertEqual(got["prompts"][0], "The stale smell of old we're lingers")
        self.assertEqual(got["title"], got["prompts"][0])  # under 80 characters: whole
        self.assertEqual(task_row(task["id"])[3], "f")  # the title is no longer a placeholder
        entries = activity_of(task["id"])
        self.assertEqual(entries[0][:2], (uid("alice"), "created"), entries)
        updated = [e for e in entries if e[1] == "updated"]
        self.assertEqual(len(updated), 1, entries)
        self.assertEqual(updated[0][0], "")  # actor NULL
        self.assertEqual(updated[0][2], {"prompts": [[], got["prompts"]],
                                         "title": [PLACEHOLDER, got["prompts"][0]]})
        self.assertEqual(events_of(task["id"]), {uid("alice"): 1})

    # --- a project's memo, a title given -------------------------------------------------------------
    def test_project_memo_keeps_its_title_and_tells_owner_and_members_only(self):
        r = upload_raw(read(GOFORWARD), title="Robot commands", project_id=PROJECT,
                       status="review", priority="high")
        task, session = self.accepted(r)
        self.assertEqual((task["title"], task["project_id"], task["status"], task["priority"]),
                         ("Robot commands", PROJECT, "review", "high"))
        self.assertEqual(session["title"], "Robot commands")
        wait_session(session["id"])
        S.wait_until(lambda: task_row(task["id"])[1] != [], timeout=30, what="the prompts")
        title, prompts, _, _ = task_row(task["id"])
        self.assertEqual(title, "Robot commands")
        self.assertEqual(len(prompts), 1, prompts)
        self.assertIn("forward", prompts[0].lower())
        updated = [e for e in activity_of(task["id"]) if e[1] == "updated"]
        self.assertEqual(updated, [("", "updated", {"prompts": [[], prompts]})])
        self.assertEqual(events_of(task["id"]), {uid("alice"): 1, uid("bob"): 1})
        # bob, a member, reads it; eve, a stranger, does not.
        self.assertEqual(S.get(f"{API}/tasks/{task['id']}", token=tok("bob")).status, 200)
        self.assertEqual(S.get(f"{API}/tasks/{task['id']}", token=tok("eve")).status, 404)

    # --- worker stopped: a failed transcription, and a title edited while queued ----------------
    def test_failed_transcription_leaves_no_prompts_and_an_edited_title_stands(self):
        pid = S.job_worker_pid()
        os.kill(pid, signal.SIGTERM)
        S.wait_until(lambda: subprocess.run(["kill", "-0", str(pid)], capture_output=True)
                     .returncode != 0, timeout=60, what="the worker to stop")
        try:
            fail_task, fail_session = self.accepted(upload_multipart([file_part(read(GOFORWARD))]))
            # Accepted, then its model went away: the job fails for good, at once.
            S.sql(f"UPDATE sessions SET language = 'en-gone' WHERE id = '{fail_session['id']}'")
            edit_task, edit_session = self.accepted(upload_multipart([file_part(read(GOFORWARD))]))
            r = S.request("PATCH", f"{API}/tasks/{edit_task['id']}", json_body={"title": "Mine"},
                          token=tok("alice"))
            self.assertEqual(r.status, 200, r)
            drain = subprocess.run([BIN, "worker", "--drain"], env=S.env, capture_output=True,
                                   timeout=JOB_S)
            self.assertEqual(drain.returncode, 0, drain.stderr[-2000:])
        finally:
            S.script("up")  # the stack's worker again, for the other tests
        self.assertEqual(session_state(fail_session["id"]),
                         ("failed", "the session's language is not installed"))
        self.assertEqual(task_row(fail_task["id"]), (PLACEHOLDER, [], fail_session["id"], "t"))
        self.assertEqual(events_of(fail_task["id"]), {})
        self.assertEqual([e[1] for e in activity_of(fail_task["id"])], ["created"])
        got = S.get(f"{API}/tasks/{fail_task['id']}", token=tok("alice")).json()
        self.assertEqual((got["prompts"], got["title"]), ([], PLACEHOLDER))
        # The title alice gave while the memo waited is hers: the memo fills only the prompts.
        self.assertEqual(session_state(edit_session["id"])[0], "done")
        title, prompts, _, from_memo = task_row(edit_task["id"])
        self.assertEqual((title, from_memo), ("Mine", "f"))
        self.assertEqual(len(prompts), 1, prompts)

    # --- deletes -------------------------------------------------------------------------------------
    def test_deleting_the_task_keeps_the_session_and_deleting_the_session_unlinks_the_task(self):
        t1, s1 = self.accepted(upload_raw(read(GOFORWARD)))
        t2, s2 = self.accepted(upload_raw(read(GOFORWARD)))
        wait_session(s1["id"])
        wait_session(s2["id"])
        r = S.request("DELETE", f"{API}/tasks/{t1['id']}", token=tok("alice"))
        self.assertEqual(r.status, 204, r)
        self.assertIsNone(task_row(t1["id"]))
        r = S.get(f"{API}/sessions/{s1['id']}", token=tok("alice"))
        self.assertEqual(r.status, 200, r)
        self.assertIn(f"{s1['id']}.wav", S.audio_files())  # the recording stays the user's
        r = S.request("DELETE", f"{API}/sessions/{s2['id']}", token=tok("alice"))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(task_row(t2["id"])[2], "")
        got = S.get(f"{API}/tasks/{t2['id']}", token=tok("alice")).json()
        self.assertIsNone(got["source_session_id"])
        self.assertEqual(len(got["prompts"]), 1, got)  # the prompts stay with the task

    # --- refusals store nothing ----------------------------------------------------------------------
    def refused(self, send, statuses, field=None):
        S.quiesce()
        before, files, n = S.fingerprint(), S.audio_files(), counts()
        r = send()
        body = self.assertProblem(r, statuses)
        if field:
            self.assertIn(field, [e.get("field") for e in body.get("errors", [])], body)
        self.assertEqual(counts(), n, "a refused memo left a task or a session")
        self.assertEqual(S.audio_files(), files, "a refused memo left a file in audio/")
        self.assertEqual(os.listdir(os.path.join(S.dir, "audio", "tmp")), [])
        self.assertEqual(S.fingerprint(), before, "the database changed after a refused memo")
        return body

    def test_bad_uploads_leave_no_task_no_session_no_file(self):
        clip = read(GOFORWARD)
        text = b"Not audio at all.\nJust a text file called x.wav.\n" * 20
        # A WAV header claiming one second of 16 kHz mono that holds no sample.
        header_only = (b"RIFF" + struct.pack("<I", 36 + 32000) + b"WAVEfmt " +
                       struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) +
                       b"data" + struct.pack("<I", 32000))
        cases = [
            ("text as wav, multipart", lambda: upload_multipart([file_part(text, "x.wav")]), 415, None),
            ("text as wav, raw", lambda: upload_raw(text), 415, None),
            ("html as mp3", lambda: upload_raw(b"<html><script>alert(1)</script></html>", "audio/mpeg"), 415, None),
            ("gzip encoded", lambda: upload_raw(gzip.compress(clip), headers={"Content-Encoding": "gzip"}), 415, None),
            ("json body", lambda: upload_raw(json.dumps({"title": "x"}).encode(), "application/json"), 415, None),
            ("header-only wav", lambda: upload_raw(header_only), 422, None),
            ("empty file part", lambda: upload_multipart([file_part(b"")]), (400, 422), None),
            ("no file part", lambda: upload_multipart([part("title", "no file")]), 422, "file"),
            ("unknown form field", lambda: upload_multipart([file_part(clip), part("kind", "practice")]), 400, None),
            ("field twice", lambda: upload_multipart([file_part(clip), part("title", "a"), part("title", "b")]), 400, None),
            ("unknown query parameter", lambda: upload_raw(clip, kind="memo"), 422, "kind"),
            ("title over 500", lambda: upload_multipart([file_part(clip), part("title", "t" * 501)]), 422, "title"),
            ("title over 500, raw", lambda: upload_raw(clip, title="é" * 501), 422, "title"),
            ("status bogus", lambda: upload_multipart([file_part(clip), part("status", "doing")]), 422, "status"),
            ("priority bogus", lambda: upload_raw(clip, priority="critical"), 422, "priority"),
            ("project_id not a uuid", lambda: upload_raw(clip, project_id="' OR 1=1 --"), 422, "project_id"),
            ("project_id unknown", lambda: upload_raw(clip, project_id=str(uuid.uuid4())), 422, "project_id"),
            ("project_id of a stranger", lambda: upload_raw(clip, who="eve", project_id=PROJECT), 422, "project_id"),
            ("title not utf-8", lambda: upload_multipart([file_part(clip), part("title", b"\xc3\x28")]), 400, None),
            ("no token", lambda: upload_raw(clip, token=False), 401, None),
            ("bad token", lambda: upload_multipart([file_part(clip)], token="not.a.jwt"), 401, None),
        ]
        # A column at its WIP limit: 409 as for POST /tasks, and the session goes with the task.
        full = S.sql(f"INSERT INTO projects (owner_id, name, wip_limits) VALUES ('{uid('alice')}', "
                     "'Full', '{\"todo\": 0}') RETURNING id")[0][0]
        cases.append(("column at its WIP limit", lambda: upload_raw(clip, project_id=full), 409, None))
        for name, send, statuses, field in cases:
            with self.subTest(name):
                self.refused(send, statuses, field)
        # The same stranger's 422 as an unknown project's: nothing says the project exists.
        a = upload_raw(clip, who="eve", project_id=PROJECT).json()
        b = upload_raw(clip, who="eve", project_id=str(uuid.uuid4())).json()
        self.assertEqual((a["detail"], a["errors"]), (b["detail"], b["errors"]))


if __name__ == "__main__":
    unittest.main()
