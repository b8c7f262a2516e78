// Queries on sessions, words and analyses.
#include "db/sessions.h"

#include "core/numbers.h"

namespace db {
namespace {

// Read by column name (session_from): the order here is free. The aliases shadow the table's
// columns in ORDER BY: order by sessions.created_at, not its text.
#define SESSION_COLUMNS                                                                         \
    "id, user_id, kind, title, status, progress, error, audio_path, audio_format, audio_mime, " \
    "audio_bytes, duration_s, language, patient_id, project_id, summary, notes, "               \
    "transcript_text, engine, consent, api_time(audio_deleted_at) AS audio_deleted_at, "        \
    "api_time(created_at) AS created_at, "                                                      \
    "api_time(updated_at) AS updated_at, "                                                      \
    "(extract(epoch from created_at) * 1000000)::bigint AS cursor_key"

constexpr Statement kInsertSession{"insert_session", R"sql(
    INSERT INTO sessions (id, user_id, kind, title, audio_path, audio_format, audio_mime,
                          audio_bytes, duration_s, language, patient_id, project_id, consent)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
            -- The caller checked that the patient is the owner's (422 otherwise); one deleted
            -- since (a live stream's patient during the stream) unlinks rather than losing it.
            (SELECT p.id FROM patients p WHERE p.id = $11::uuid AND p.user_id = $2::uuid),
            $12, $13)
    RETURNING )sql" SESSION_COLUMNS};
constexpr Statement kFindSession{
    "find_session", "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = $1 AND user_id = $2",
    kIdempotent};
constexpr Statement kFindSessionForJob{
    "find_session_for_job", "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = $1", kIdempotent};
// Filters are fixed fragments with NULL meaning "any": no SQL is assembled from input.
constexpr Statement kListSessions{"list_sessions", "SELECT " SESSION_COLUMNS R"sql(
    FROM sessions
    WHERE user_id = $1
      AND ($2::text IS NULL OR kind = $2)
      AND ($3::text IS NULL OR status = $3)
      AND ($4::uuid IS NULL OR patient_id = $4)
      AND ($5::uuid IS NULL OR project_id = $5)
      AND ($6::timestamptz IS NULL OR created_at >= $6)
      AND ($7::timestamptz IS NULL OR created_at < $7)
      AND ($8::bigint IS NULL
           OR ((extract(epoch from created_at) * 1000000)::bigint, id) < ($8::bigint, $9::uuid))
    ORDER BY sessions.created_at DESC, sessions.id DESC
    LIMIT $10)sql",
                                  kIdempotent};
constexpr Statement kUpdateSession{"update_session", R"sql(
    UPDATE sessions SET
        title = coalesce($3, title),
        summary = CASE WHEN $8::boolean THEN NULL ELSE coalesce($4, summary) END,
        notes = CASE WHEN $9::boolean THEN NULL ELSE coalesce($5, notes) END,
        patient_id = CASE WHEN $7::boolean THEN NULL ELSE coalesce($6::uuid, patient_id) END,
        updated_at = now()
    WHERE id = $1 AND user_id = $2
    RETURNING )sql" SESSION_COLUMNS};
// A worker's transactions lock the job row first, then the session's (progress, results,
// failure); the delete's cascade goes the other way (session, then its job), so two at once
// deadlocked (answered 503). The pending job is locked first here, in the workers' order: the
// worker's transaction finishes, then the delete goes on.
constexpr Statement kDeleteSession{"delete_session", R"sql(
    WITH job AS (SELECT id FROM jobs
                 WHERE session_id = $1 AND user_id = $2 AND status IN ('queued', 'running')
                 FOR UPDATE)
    DELETE FROM sessions
    WHERE id = $1 AND user_id = $2 AND (SELECT count(*) FROM job) >= 0
    RETURNING audio_path)sql"};
constexpr Statement kSessionWords{"session_words", R"sql(
    SELECT word, start_s, end_s, confidence, filler FROM words
    WHERE session_id = $1 ORDER BY idx)sql",
                                  kIdempotent};
constexpr Statement kSessionAnalysis{
    "session_analysis", "SELECT metrics::text AS metrics FROM analyses WHERE session_id = $1",
    kIdempotent};
constexpr Statement kSetProgress{"set_session_progress", R"sql(
    UPDATE sessions SET status = $2, progress = $3, updated_at = now() WHERE id = $1)sql"};
constexpr Statement kDeleteWords{"delete_words", "DELETE FROM words WHERE session_id = $1"};
// One statement for all words: arrays in, unnest out (no per-word round trip).
constexpr Statement kInsertWords{"insert_words", R"sql(
    INSERT INTO words (session_id, idx, word, start_s, end_s, confidence, filler)
    SELECT $1, w.ord - 1, w.word, w.start_s, w.end_s, w.confidence, w.filler
    FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float4[], $6::boolean[])
         WITH ORDINALITY AS w(word, start_s, end_s, confidence, filler, ord))sql"};
constexpr Statement kStoreTranscript{"store_transcript", R"sql(
    UPDATE sessions SET transcript_text = $2, engine = $3, duration_s = $4, updated_at = now()
    WHERE id = $1)sql"};
constexpr Statement kStoreAnalysis{"store_analysis", R"sql(
    INSERT INTO analyses (session_id, metrics, wpm, fillers_per_min, overall)
    VALUES ($1, $2::jsonb, $3, $4, $5)
    ON CONFLICT (session_id) DO UPDATE SET metrics = excluded.metrics, wpm = excluded.wpm,
        fillers_per_min = excluded.fillers_per_min, overall = excluded.overall,
        created_at = now())sql"};
constexpr Statement kMarkDone{"mark_session_done", R"sql(
    UPDATE sessions SET status = 'done', progress = 1, error = NULL, updated_at = now()
    WHERE id = $1)sql"};
constexpr Statement kMarkFailed{"mark_session_failed", R"sql(
    UPDATE sessions SET status = 'failed', error = $2, updated_at = now() WHERE id = $1)sql"};

Session session_from(const Result& r, int i) {
    Row row(r, i);
    Session s;
    s.id = row.str("id");
    s.user_id = row.str("user_id");
    s.kind = row.str("kind");
    s.title = row.str("title");
    s.status = row.str("status");
    s.progress = row.f64("progress");
    s.error = row.opt("error");
    s.audio_path = row.str("audio_path");
    s.audio_format = row.str("audio_format");
    s.audio_mime = row.str("audio_mime");
    s.audio_bytes = row.i64("audio_bytes");
    s.duration_s = row.opt_f64("duration_s");
    s.language = row.str("language");
    s.patient_id = row.opt("patient_id");
    s.project_id = row.opt("project_id");
    s.summary = row.opt("summary");
    s.notes = row.opt("notes");
    s.transcript_text = row.opt("transcript_text");
    s.engine = row.opt("engine");
    s.consent = row.boolean("consent");
    s.audio_deleted_at = row.opt("audio_deleted_at");
    s.created_at = row.str("created_at");
    s.updated_at = row.str("updated_at");
    s.cursor_key = row.str("cursor_key");
    return s;
}

std::optional<Session> maybe_session(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return session_from(r, 0);
}

// A PostgreSQL array literal of text: every element double-quoted with " and \ escaped.
std::string text_array(const std::vector<StoredWord>& words) {
    std::string out = "{";
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : words[i].word) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

template <class F>
std::string number_array(const std::vector<StoredWord>& words, F field) {
    std::string out = "{";
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) out += ',';
        out += field(words[i]);
    }
    return out + "}";
}

}  // namespace

Session insert_session(Db& db, const NewSession& s) {
    Param duration = s.duration_s ? Param(core::exact_number(*s.duration_s)) : Param();
    return session_from(
        db.exec(kInsertSession,
                {s.id, s.user_id, s.kind, s.title, s.audio_path, s.audio_format, s.audio_mime,
                 std::to_string(s.audio_bytes), duration, s.language, s.patient_id, s.project_id,
                 std::string(s.consent ? "true" : "false")}),
        0);
}

std::optional<Session> find_session(Db& db, const std::string& user_id, const std::string& id) {
    return maybe_session(db.exec(kFindSession, {id, user_id}));
}

std::optional<Session> find_session_for_job(Db& db, const std::string& id) {
    return maybe_session(db.exec(kFindSessionForJob, {id}));
}

std::vector<Session> list_sessions(Db& db, const std::string& user_id, const SessionFilter& f,
                                   int limit) {
    Result r =
        db.exec(kListSessions, {user_id, f.kind, f.status, f.patient_id, f.project_id, f.from, f.to,
                                f.before_key, f.before_id, std::to_string(limit)});
    std::vector<Session> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(session_from(r, i));
    return out;
}

std::optional<Session> update_session(Db& db, const std::string& user_id, const std::string& id,
                                      const SessionChanges& c) {
    return maybe_session(
        db.exec(kUpdateSession, {id, user_id, c.title, c.summary, c.notes, c.patient_id,
                                 std::string(c.clear_patient ? "true" : "false"),
                                 std::string(c.clear_summary ? "true" : "false"),
                                 std::string(c.clear_notes ? "true" : "false")}));
}

std::optional<std::string> delete_session(Db& db, const std::string& user_id,
                                          const std::string& id) {
    Result r = db.exec(kDeleteSession, {id, user_id});
    if (r.rows() == 0) return std::nullopt;
    return Row(r, 0).str("audio_path");
}

std::vector<StoredWord> session_words(Db& db, const std::string& session_id) {
    Result r = db.exec(kSessionWords, {session_id});
    std::vector<StoredWord> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        out.push_back({row.str("word"), row.f64("start_s"), row.f64("end_s"), row.f64("confidence"),
                       row.boolean("filler")});
    }
    return out;
}

std::optional<std::string> session_analysis_json(Db& db, const std::string& session_id) {
    Result r = db.exec(kSessionAnalysis, {session_id});
    if (r.rows() == 0) return std::nullopt;
    return Row(r, 0).str("metrics");
}

void set_session_progress(Db& db, const std::string& id, const std::string& status,
                          double progress) {
    db.exec(kSetProgress, {id, status, core::exact_number(progress)});
}

void replace_words(Db& db, const std::string& session_id, const std::vector<StoredWord>& words) {
    db.exec(kDeleteWords, {session_id});
    if (words.empty()) return;
    db.exec(
        kInsertWords,
        {session_id, text_array(words),
         number_array(words, [](const StoredWord& w) { return core::exact_number(w.start_s); }),
         number_array(words, [](const StoredWord& w) { return core::exact_number(w.end_s); }),
         number_array(words, [](const StoredWord& w) { return core::exact_number(w.confidence); }),
         number_array(words,
                      [](const StoredWord& w) { return std::string(w.filler ? "t" : "f"); })});
}

void store_transcript(Db& db, const std::string& id, const std::string& text,
                      const std::string& engine, double duration_s) {
    db.exec(kStoreTranscript, {id, text, engine, core::exact_number(duration_s)});
}

void store_analysis(Db& db, const std::string& id, const std::string& metrics_json, double wpm,
                    double fillers_per_min, int overall) {
    db.exec(kStoreAnalysis, {id, metrics_json, core::exact_number(wpm),
                             core::exact_number(fillers_per_min), std::to_string(overall)});
}

void mark_session_done(Db& db, const std::string& id) {
    db.exec(kMarkDone, {id});
}

void mark_session_failed(Db& db, const std::string& id, const std::string& error) {
    db.exec(kMarkFailed, {id, error});
}

}  // namespace db
