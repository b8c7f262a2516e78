// Building, storing and announcing events.
#include "db/events.h"

#include "core/numbers.h"

#include <cstdio>

#include "core/json.h"

namespace db {
namespace {

// One row per recipient, in the audience's order, in one statement however many there are.
constexpr Statement kPublishEvent{"publish_event", R"sql(
    WITH e AS (
        INSERT INTO events (user_id, event, data)
        SELECT a.user_id, $2, $3::jsonb
        FROM unnest($1::uuid[]) WITH ORDINALITY AS a(user_id, ord) ORDER BY a.ord
        RETURNING seq, user_id, event, data)
    SELECT pg_notify('rostrum_events',
                     json_build_object('seq', seq, 'user_id', user_id, 'event', event,
                                       'data', data)::text)
    FROM e)sql"};

// The same for a project's audience (project_audience(): owner and members), read in the
// statement itself, so that the membership the event goes to is the one the transaction sees.
constexpr Statement kPublishToProject{"publish_to_project", R"sql(
    WITH e AS (
        INSERT INTO events (user_id, event, data)
        SELECT a.user_id, $2, $3::jsonb
        FROM unnest(project_audience($1::uuid)) WITH ORDINALITY AS a(user_id, ord) ORDER BY a.ord
        RETURNING seq, user_id, event, data)
    SELECT pg_notify('rostrum_events',
                     json_build_object('seq', seq, 'user_id', user_id, 'event', event,
                                       'data', data)::text)
    FROM e)sql"};

constexpr Statement kUserEventsSince{"user_events_since", R"sql(
    SELECT seq, user_id, event, data::text AS data FROM events
    WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)sql"};

constexpr Statement kEventsSince{"events_since", R"sql(
    SELECT seq, user_id, event, data::text AS data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2)sql"};

constexpr Statement kLastEventSeq{"last_event_seq", "SELECT coalesce(max(seq), 0) FROM events"};

constexpr Statement kPruneEvents{"prune_events", R"sql(
    DELETE FROM events WHERE at < now() - make_interval(secs => $1))sql"};

// A session's progress as every event has written it: three decimals.
std::string fraction(double v) {
    return core::fixed3(v);
}

// {id, status, progress[, stage]}: the shape of every session event but session.failed.
// `progress` is already rendered: the fixed points keep the literals clients have seen.
Event session_state(const char* name, const std::string& id, const char* status,
                    const std::string& progress, const std::string* stage = nullptr) {
    core::JsonWriter w;
    w.begin_object().field("id", id).field("status", status).key("progress").raw(progress);
    if (stage) w.field("stage", *stage);
    w.end_object();
    return {name, w.take()};
}

std::vector<StoredEvent> rows_to_events(const Result& r) {
    std::vector<StoredEvent> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        out.push_back({row.i64("seq"), row.str("user_id"), row.str("event"), row.str("data")});
    }
    return out;
}

}  // namespace

std::vector<StoredEvent> user_events_since(Db& db, const std::string& user_id, int64_t after_seq,
                                           int limit) {
    return rows_to_events(
        db.exec(kUserEventsSince, {user_id, std::to_string(after_seq), std::to_string(limit)}));
}

std::vector<StoredEvent> events_since(Db& db, int64_t after_seq, int limit) {
    return rows_to_events(
        db.exec(kEventsSince, {std::to_string(after_seq), std::to_string(limit)}));
}

int64_t last_event_seq(Db& db) {
    return db.exec(kLastEventSeq).scalar_i64();
}

int64_t prune_events(Db& db, int max_age_s) {
    return db.exec(kPruneEvents, {std::to_string(max_age_s)}).affected();
}

Event session_created_queued(const std::string& session_id) {
    return session_state("session.created", session_id, "queued", fraction(0));
}

Event session_created_analysing(const std::string& session_id) {
    return session_state("session.created", session_id, "processing", "0.5");
}

Event session_analysing(const std::string& session_id) {
    return session_state("session.progress", session_id, "processing", "0.5");
}

Event session_stage(const std::string& session_id, double f, const std::string& stage) {
    return session_state("session.progress", session_id, "processing", fraction(f), &stage);
}

Event session_requeued(const std::string& session_id) {
    return session_state("session.progress", session_id, "queued", "0");
}

Event session_done(const std::string& session_id) {
    return session_state("session.done", session_id, "done", "1");
}

Event session_failed(const std::string& session_id, const std::string& error) {
    core::JsonWriter w;
    w.begin_object().field("id", session_id).field("status", "failed").field("error", error);
    w.end_object();
    return {"session.failed", w.take()};
}

namespace {

// {<id_key>: id[, project_id], actor_id}: every tracker event but task.moved. A project's own
// events name it once (project_id); a task's say which project it is on (null: personal).
Event tracker_event(const char* name, const char* id_key, const std::string& id,
                    const std::optional<std::string>* project_id,
                    const std::optional<std::string>& actor_id) {
    core::JsonWriter w;
    w.begin_object().field(id_key, id);
    if (project_id) {
        w.key("project_id");
        *project_id ? w.value(**project_id) : w.null();
    }
    w.key("actor_id");
    actor_id ? w.value(*actor_id) : w.null();
    w.end_object();
    return {name, w.take()};
}

}  // namespace

Event project_event(const char* name, const std::string& project_id, const std::string& actor_id) {
    return tracker_event(name, "project_id", project_id, nullptr, actor_id);
}

Event task_event(const char* name, const std::string& task_id,
                 const std::optional<std::string>& project_id,
                 const std::optional<std::string>& actor_id) {
    return tracker_event(name, "task_id", task_id, &project_id, actor_id);
}

Event task_moved(const std::string& task_id, const std::optional<std::string>& project_id,
                 const std::string& old_status, const std::string& new_status, int64_t position,
                 const std::string& actor_id) {
    core::JsonWriter w;
    w.begin_object().field("task_id", task_id).key("project_id");
    project_id ? w.value(*project_id) : w.null();
    w.field("old_status", old_status)
        .field("new_status", new_status)
        .key("position")
        .raw(std::to_string(position))
        .field("actor_id", actor_id)
        .end_object();
    return {"task.moved", w.take()};
}

void publish_to_project(Db& db, const std::string& project_id, const Event& e) {
    db.exec(kPublishToProject, {project_id, e.name, e.data_json});
}

void publish(Db& db, const Audience& to, const Event& e) {
    if (to.user_ids.empty()) return;
    db.exec(kPublishEvent, {array_literal(to.user_ids), e.name, e.data_json});
}

Event note_updated(const std::string& session_id, const std::string& status, int64_t version,
                   const char* action) {
    core::JsonWriter w;
    w.begin_object()
        .field("session_id", session_id)
        .field("status", status)
        .key("version")
        .value(version)
        .field("action", action)
        .end_object();
    return {"note.updated", w.take()};
}

Event interview_turn(const std::string& interview_id, int64_t ordinal, const std::string& status,
                     const std::string& question_id,
                     const std::optional<std::string>& next_question_id) {
    core::JsonWriter w;
    w.begin_object().field("interview_id", interview_id).key("ordinal").value(ordinal);
    w.field("status", status).field("question_id", question_id).key("next_question_id");
    if (next_question_id)
        w.value(*next_question_id);
    else
        w.null();
    w.end_object();
    return {"interview.turn", w.take()};
}

}  // namespace db
