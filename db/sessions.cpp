// Queries on sessions, words and analyses.
#include "db/sessions.h"

#include <cstdio>

namespace db {
namespace {

#define SESSION_COLUMNS                                                                         \
    "id, user_id, kind, title, status, progress, error, audio_path, audio_format, audio_mime, " \
    "audio_bytes, duration_s, language, patient_id, project_id, summary, notes, "               \
    "transcript_text, engine, api_time(created_at), api_time(updated_at), "                     \
    "(extract(epoch from created_at) * 1000000)::bigint"

constexpr Statement kInsertSession{"insert_session", R"sql(
    INSERT INTO sessions (id, user_id, kind, title, audio_path, audio_format, audio_mime,
                          audio_bytes, duration_s, language, patient_id, project_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
    ORDER BY created_at DESC, id DESC
    LIMIT $10)sql",
                                  kIdempotent};
constexpr Statement kUpdateSession{"update_session", R"sql(
    UPDATE sessions SET
        title = coalesce($3, title),
        summary = coalesce($4, summary),
        notes = coalesce($5, notes),
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
    "session_analysis", "SELECT metrics::text FROM analyses WHERE session_id = $1", kIdempotent};
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

std::optional<std::string> opt(const Result& r, int row, int col) {
    if (r.is_null(row, col)) return std::nullopt;
    return r.str(row, col);
}

Session session_from(const Result& r, int i) {
    Session s;
    s.id = r.str(i, 0);
    s.user_id = r.str(i, 1);
    s.kind = r.str(i, 2);
    s.title = r.str(i, 3);
    s.status = r.str(i, 4);
    s.progress = r.f64(i, 5);
    s.error = opt(r, i, 6);
    s.audio_path = r.str(i, 7);
    s.audio_format = r.str(i, 8);
    s.audio_mime = r.str(i, 9);
    s.audio_bytes = r.i64(i, 10);
    if (!r.is_null(i, 11)) s.duration_s = r.f64(i, 11);
    s.language = r.str(i, 12);
    s.patient_id = opt(r, i, 13);
    s.project_id = opt(r, i, 14);
    s.summary = opt(r, i, 15);
    s.notes = opt(r, i, 16);
    s.transcript_text = opt(r, i, 17);
    s.engine = opt(r, i, 18);
    s.created_at = r.str(i, 19);
    s.updated_at = r.str(i, 20);
    s.cursor_key = r.str(i, 21);
    return s;
}

std::optional<Session> maybe_session(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return session_from(r, 0);
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
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
    Param duration = s.duration_s ? Param(num(*s.duration_s)) : Param();
    return session_from(
        db.exec(kInsertSession,
                {s.id, s.user_id, s.kind, s.title, s.audio_path, s.audio_format, s.audio_mime,
                 std::to_string(s.audio_bytes), duration, s.language, s.patient_id, s.project_id}),
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
                                 std::string(c.clear_patient ? "true" : "false")}));
}

std::optional<std::string> delete_session(Db& db, const std::string& user_id,
                                          const std::string& id) {
    Result r = db.exec(kDeleteSession, {id, user_id});
    if (r.rows() == 0) return std::nullopt;
    return r.str(0, 0);
}

std::vector<StoredWord> session_words(Db& db, const std::string& session_id) {
    Result r = db.exec(kSessionWords, {session_id});
    std::vector<StoredWord> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.str(i, 0), r.f64(i, 1), r.f64(i, 2), r.f64(i, 3), r.boolean(i, 4)});
    return out;
}

std::optional<std::string> session_analysis_json(Db& db, const std::string& session_id) {
    Result r = db.exec(kSessionAnalysis, {session_id});
    if (r.rows() == 0) return std::nullopt;
    return r.str(0, 0);
}

void set_session_progress(Db& db, const std::string& id, const std::string& status,
                          double progress) {
    db.exec(kSetProgress, {id, status, num(progress)});
}

void replace_words(Db& db, const std::string& session_id, const std::vector<StoredWord>& words) {
    db.exec(kDeleteWords, {session_id});
    if (words.empty()) return;
    db.exec(kInsertWords,
            {session_id, text_array(words),
             number_array(words, [](const StoredWord& w) { return num(w.start_s); }),
             number_array(words, [](const StoredWord& w) { return num(w.end_s); }),
             number_array(words, [](const StoredWord& w) { return num(w.confidence); }),
             number_array(words,
                          [](const StoredWord& w) { return std::string(w.filler ? "t" : "f"); })});
}

void store_transcript(Db& db, const std::string& id, const std::string& text,
                      const std::string& engine, double duration_s) {
    db.exec(kStoreTranscript, {id, text, engine, num(duration_s)});
}

void store_analysis(Db& db, const std::string& id, const std::string& metrics_json, double wpm,
                    double fillers_per_min, int overall) {
    db.exec(kStoreAnalysis,
            {id, metrics_json, num(wpm), num(fillers_per_min), std::to_string(overall)});
}

void mark_session_done(Db& db, const std::string& id) {
    db.exec(kMarkDone, {id});
}

void mark_session_failed(Db& db, const std::string& id, const std::string& error) {
    db.exec(kMarkFailed, {id, error});
}

}  // namespace db
