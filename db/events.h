// Events for the realtime channel: stored with a sequence number, then NOTIFY rostrum_events
// (delivered at commit) with a small JSON payload carrying the user id, so that a listener
// forwards it to that user's sockets and a reconnecting client can catch up from the table.
//
// Every event's payload is built here, by a named builder (session_created, session_stage…),
// and published to an Audience: the one place that says what a client is told and to whom.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

// Who an event is for. Each recipient gets its own row (its own seq), so that a user's
// ?since= replay stays one indexed range. A user today; a project's members next: an audience
// of their ids (Audience::users(member_ids)), still one INSERT … SELECT for all of them.
struct Audience {
    std::vector<std::string> user_ids;

    static Audience user(std::string user_id) { return {{std::move(user_id)}}; }
    static Audience users(std::vector<std::string> user_ids) { return {std::move(user_ids)}; }
};

// An event as clients receive it: its name and its data (a JSON object, small: NOTIFY payloads
// stay under 8000 bytes).
struct Event {
    std::string name;
    std::string data_json;
};

// The session events. Their payloads are what the web app and vosk clients read: the exact
// bytes are pinned by tests/unit/db/events_test.cpp.
//
// session.created {id, status: queued, progress: 0.000}: an upload, queued for transcription.
Event session_created_queued(const std::string& session_id);
// session.created {id, status: processing, progress: 0.5}: a saved live stream, whose
// transcript stands, queued for analysis.
Event session_created_analysing(const std::string& session_id);
// session.progress {id, status: processing, progress: 0.5}: a re-analysis queued (the
// transcript stands; only the analysis runs again).
Event session_analysing(const std::string& session_id);
// session.progress {id, status: processing, progress: f, stage}: a worker's stage.
Event session_stage(const std::string& session_id, double fraction, const std::string& stage);
// session.progress {id, status: queued, progress: 0}: the job went back to the queue (a
// graceful shutdown, a move to the long lane).
Event session_requeued(const std::string& session_id);
// session.done {id, status: done, progress: 1}.
Event session_done(const std::string& session_id);
// session.failed {id, status: failed, error}: `error` is the owner's sentence (never a path).
Event session_failed(const std::string& session_id, const std::string& error);

// The tracker events (API.md "Team tracker"), small on purpose: a client re-reads what changed.
//   project_event: {project_id, actor_id}
//   task_event:    {task_id, project_id (null for a personal task), actor_id (null: the system)}
//   task_moved:    task.moved {task_id, project_id, old_status, new_status, position, actor_id}
Event project_event(const char* name, const std::string& project_id, const std::string& actor_id);
Event task_event(const char* name, const std::string& task_id,
                 const std::optional<std::string>& project_id,
                 const std::optional<std::string>& actor_id);
Event task_moved(const std::string& task_id, const std::optional<std::string>& project_id,
                 const std::string& old_status, const std::string& new_status, int64_t position,
                 const std::string& actor_id);

// note.updated {session_id, status, version, action}: a scribe session's clinical note was
// drafted, edited, approved or reopened (to its owner; the client re-reads the note).
Event note_updated(const std::string& session_id, const std::string& status, int64_t version,
                   const char* action);

// interview.turn {interview_id, ordinal, status, question_id, next_question_id}: a turn's
// answer was analysed (done) or its voice answer failed (failed); next_question_id is the
// question asked next (a follow-up's is its turn's id), null when none was (the interview
// awaits /finish, or the failed turn is still the one to answer). To the interview's owner.
Event interview_turn(const std::string& interview_id, int64_t ordinal, const std::string& status,
                     const std::string& question_id,
                     const std::optional<std::string>& next_question_id);

// Stores the event once per recipient and announces each, in the caller's transaction (when
// there is one: the NOTIFY is delivered at its commit).
void publish(Db& db, const Audience& to, const Event& e);

// The same to a project's audience as the calling transaction sees it (project_audience(): the
// owner and every member, not admins who are neither). A personal task's events go to its
// creator: publish(db, Audience::user(created_by), e).
void publish_to_project(Db& db, const std::string& project_id, const Event& e);

struct StoredEvent {
    int64_t seq = 0;
    std::string user_id;
    std::string event;
    std::string data_json;
};

// A user's events after `after_seq`, oldest first, at most `limit` (a reconnecting client's
// ?since=). Owner-scoped: another user's events never come back.
std::vector<StoredEvent> user_events_since(Db& db, const std::string& user_id, int64_t after_seq,
                                           int limit);
// Everyone's events after `after_seq`, oldest first: the live daemon catching up after its
// listening connection was away.
std::vector<StoredEvent> events_since(Db& db, int64_t after_seq, int limit);
// The highest seq stored (0 when none): where a starting daemon begins.
int64_t last_event_seq(Db& db);
// Deletes events older than max_age_s; returns how many.
int64_t prune_events(Db& db, int max_age_s);

}  // namespace db
