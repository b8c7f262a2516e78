// Queries on clinical notes and their history.
#include "db/clinical_notes.h"

#include "core/json.h"

namespace db {
namespace {

#define NOTE_COLUMNS                                                            \
    "n.session_id, n.status, n.version, n.summary, n.subjective, n.objective, " \
    "n.assessment, n.plan, api_time(n.updated_at) AS updated_at, "              \
    "api_time(n.approved_at) AS approved_at"

constexpr Statement kInsertDraft{"insert_draft_note", R"sql(
    INSERT INTO clinical_notes (session_id, user_id, summary, subjective, objective, assessment,
                                plan, action)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'drafted')
    ON CONFLICT (session_id) DO NOTHING)sql"};
constexpr Statement kHasNote{"has_note", "SELECT 1 FROM clinical_notes WHERE session_id = $1",
                             kIdempotent};
// The session must still be the caller's scribe session (the note's user_id is its owner's).
constexpr Statement kFindNote{"find_note", "SELECT " NOTE_COLUMNS R"sql(
    FROM clinical_notes n WHERE n.session_id = $1 AND n.user_id = $2)sql",
                              kIdempotent};
constexpr Statement kEditNote{"edit_note", R"sql(
    UPDATE clinical_notes n SET summary = $3, subjective = $4, objective = $5, assessment = $6,
        plan = $7, action = 'edited', actor_id = $2, updated_at = now()
    WHERE n.session_id = $1 AND n.user_id = $2 AND n.status = 'draft'
    RETURNING )sql" NOTE_COLUMNS};
constexpr Statement kApproveNote{"approve_note", R"sql(
    UPDATE clinical_notes n SET status = 'approved', action = 'approved', actor_id = $2,
        updated_at = now(), approved_at = now()
    WHERE n.session_id = $1 AND n.user_id = $2 AND n.status = 'draft'
    RETURNING )sql" NOTE_COLUMNS};
// A new draft version, its text the approved one's: the clinician edits from there.
constexpr Statement kReopenNote{"reopen_note", R"sql(
    UPDATE clinical_notes n SET status = 'draft', version = version + 1, action = 'reopened',
        actor_id = $2, updated_at = now(), approved_at = NULL
    WHERE n.session_id = $1 AND n.user_id = $2 AND n.status = 'approved'
    RETURNING )sql" NOTE_COLUMNS};
constexpr Statement kNoteHistory{"note_history", R"sql(
    SELECT v.seq AS cursor_key, v.session_id, v.version, api_time(v.at) AS at, v.actor_id,
           v.action, v.status, v.summary, v.subjective, v.objective, v.assessment, v.plan
    FROM clinical_note_versions v
    JOIN clinical_notes n ON n.session_id = v.session_id AND n.user_id = $2
    WHERE v.session_id = $1 AND ($3::bigint IS NULL OR v.seq < $3::bigint)
    ORDER BY v.seq DESC
    LIMIT $4)sql",
                                 kIdempotent};

NoteText text_from(const Row& row) {
    return {row.str("summary"), row.str("subjective"), row.str("objective"), row.str("assessment"),
            row.str("plan")};
}

std::string sections_json(const NoteText& t) {
    core::JsonWriter w;
    w.begin_object()
        .field("subjective", t.subjective)
        .field("objective", t.objective)
        .field("assessment", t.assessment)
        .field("plan", t.plan)
        .end_object();
    return w.take();
}

Note note_from(const Result& r, int i) {
    Row row(r, i);
    Note n;
    n.session_id = row.str("session_id");
    n.status = row.str("status");
    n.version = row.i64("version");
    n.text = text_from(row);
    n.updated_at = row.str("updated_at");
    n.approved_at = row.opt("approved_at");
    n.sections_json = sections_json(n.text);
    return n;
}

std::optional<Note> maybe_note(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return note_from(r, 0);
}

// An UPDATE that found nothing: no note for this caller (404), or one in another state (409).
NoteResult outcome_of(Db& db, const Result& r, const std::string& user_id,
                      const std::string& session_id) {
    if (auto n = maybe_note(r)) return {NoteChange::done, std::move(n)};
    if (!find_note(db, user_id, session_id)) return {NoteChange::no_note, std::nullopt};
    return {NoteChange::wrong_state, std::nullopt};
}

}  // namespace

bool insert_draft_note(Db& db, const std::string& session_id, const std::string& user_id,
                       const NoteText& t) {
    return db.exec(kInsertDraft, {session_id, user_id, t.summary, t.subjective, t.objective,
                                  t.assessment, t.plan})
               .affected() > 0;
}

bool has_note(Db& db, const std::string& session_id) {
    return db.exec(kHasNote, {session_id}).rows() > 0;
}

std::optional<Note> find_note(Db& db, const std::string& user_id, const std::string& session_id) {
    return maybe_note(db.exec(kFindNote, {session_id, user_id}));
}

NoteResult edit_note(Db& db, const std::string& user_id, const std::string& session_id,
                     const NoteText& t) {
    Result r = db.exec(kEditNote, {session_id, user_id, t.summary, t.subjective, t.objective,
                                   t.assessment, t.plan});
    return outcome_of(db, r, user_id, session_id);
}

NoteResult approve_note(Db& db, const std::string& user_id, const std::string& session_id) {
    return outcome_of(db, db.exec(kApproveNote, {session_id, user_id}), user_id, session_id);
}

NoteResult reopen_note(Db& db, const std::string& user_id, const std::string& session_id) {
    return outcome_of(db, db.exec(kReopenNote, {session_id, user_id}), user_id, session_id);
}

std::vector<NoteVersion> note_history(Db& db, const std::string& user_id,
                                      const std::string& session_id,
                                      const std::optional<std::string>& before_key, int limit) {
    Result r = db.exec(kNoteHistory, {session_id, user_id, before_key, std::to_string(limit)});
    std::vector<NoteVersion> out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        NoteVersion v;
        v.cursor_key = row.str("cursor_key");
        v.session_id = row.str("session_id");
        v.version = row.i64("version");
        v.at = row.str("at");
        v.actor_id = row.opt("actor_id");
        v.action = row.str("action");
        v.status = row.str("status");
        v.text = text_from(row);
        v.sections_json = sections_json(v.text);
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace db
