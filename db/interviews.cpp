// Queries of the interview simulator (see interviews.h).
#include "db/interviews.h"

#include "db/events.h"

namespace db {
namespace {

// ---- settings -----------------------------------------------------------------------------------

constexpr Statement kFindIndustry{"iv_find_industry",
                                  "SELECT id, slug FROM industries WHERE slug = $1", kIdempotent};
constexpr Statement kFindRole{"iv_find_role", R"sql(
    SELECT r.id, r.slug, r.industry_id, i.slug AS industry_slug
    FROM roles r JOIN industries i ON i.id = r.industry_id WHERE r.slug = $1)sql",
                              kIdempotent};
constexpr Statement kGetPreferences{"iv_get_preferences", R"sql(
    SELECT i.slug AS industry, r.slug AS role, p.difficulty
    FROM interview_preferences p
    LEFT JOIN industries i ON i.id = p.industry_id
    LEFT JOIN roles r ON r.id = p.role_id
    WHERE p.user_id = $1)sql",
                                    kIdempotent};
constexpr Statement kPutPreferences{"iv_put_preferences", R"sql(
    INSERT INTO interview_preferences (user_id, industry_id, role_id, difficulty)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id) DO UPDATE
    SET industry_id = EXCLUDED.industry_id, role_id = EXCLUDED.role_id,
        difficulty = EXCLUDED.difficulty, updated_at = now())sql",
                                    kIdempotent};

// ---- interviews -----------------------------------------------------------------------------

// The open question: the last turn while it waits for an answer (none yet, or a voice answer
// that failed and may be given again); null while a voice answer is processed and once the
// interview is finished.
#define INTERVIEW_COLUMNS                                                                     \
    "i.id, i.user_id, ind.slug AS industry, r.slug AS role, i.difficulty, i.mode, i.status, " \
    "i.question_count, i.answer_time_s, api_time(i.created_at) AS created_at, "               \
    "api_time(i.finished_at) AS finished_at, "                                                \
    "(extract(epoch from i.created_at) * 1000000)::bigint AS cursor_key, "                    \
    "CASE WHEN i.status = 'in_progress' THEN (SELECT CASE WHEN t.answer_status IS NULL OR "   \
    "t.answer_status = 'failed' THEN t.question END FROM interview_turns t "                  \
    "WHERE t.interview_id = i.id ORDER BY t.ordinal DESC LIMIT 1) END AS current_question "   \
    "FROM interviews i JOIN industries ind ON ind.id = i.industry_id "                        \
    "LEFT JOIN roles r ON r.id = i.role_id "

constexpr Statement kInsertInterview{"iv_insert", R"sql(
    INSERT INTO interviews (user_id, industry_id, role_id, difficulty, mode, question_count,
                            answer_time_s)
    VALUES ($1, $2, $3, $4, $5, $6::integer, $7::integer)
    RETURNING id)sql"};
constexpr Statement kFindInterview{
    "iv_find", "SELECT " INTERVIEW_COLUMNS "WHERE i.id = $1 AND i.user_id = $2", kIdempotent};
constexpr Statement kLockInterview{
    "iv_lock", "SELECT " INTERVIEW_COLUMNS "WHERE i.id = $1 AND i.user_id = $2 FOR UPDATE OF i"};
constexpr Statement kListInterviews{"iv_list", "SELECT " INTERVIEW_COLUMNS R"sql(
    WHERE i.user_id = $1
      AND ($2::text IS NULL OR i.status = $2)
      AND ($3::text IS NULL OR ind.slug = $3)
      AND ($4::text IS NULL OR r.slug = $4)
      AND ($5::bigint IS NULL
           OR ((extract(epoch from i.created_at) * 1000000)::bigint, i.id) < ($5::bigint, $6::uuid))
    ORDER BY i.created_at DESC, i.id DESC
    LIMIT $7)sql",
                                    kIdempotent};

#define TURN_COLUMNS                                                                      \
    "t.id, t.ordinal, t.question_id, p.question->>'id' AS follow_up_of, "                 \
    "t.follow_up_of AS follow_up_of_turn, t.question::text AS question, "                 \
    "t.question->>'id' AS question_key, t.answer_status, t.session_id, t.answer_text, "   \
    "t.duration_s, t.over_time, t.feedback::text AS feedback, t.scores::text AS scores, " \
    "api_time(t.asked_at) AS asked_at "                                                   \
    "FROM interview_turns t LEFT JOIN interview_turns p ON p.id = t.follow_up_of "

constexpr Statement kTurns{"iv_turns", "SELECT " TURN_COLUMNS R"sql(
    WHERE t.interview_id = $1 AND t.user_id = $2 ORDER BY t.ordinal)sql",
                           kIdempotent};
constexpr Statement kLastTurn{"iv_last_turn", "SELECT " TURN_COLUMNS R"sql(
    WHERE t.interview_id = $1 AND t.user_id = $2 ORDER BY t.ordinal DESC LIMIT 1)sql",
                              kIdempotent};

// The next bank question of an interview, chosen and asked in one statement: the bank's
// questions at the interview's difficulty for its industry and role (a NULL industry or role
// applies to all), never one this interview asked. Questions the user saw in their last three
// other interviews come last (asked only when the bank has nothing else), then the
// competencies this interview asked least (a spread of skills), then chance. The snapshot is
// what the turn keeps: later edits of the bank do not change a past interview.
constexpr Statement kAskBankQuestion{"iv_ask_bank", R"sql(
    WITH iv AS (
        SELECT id, user_id, industry_id, role_id, difficulty, created_at
        FROM interviews WHERE id = $1 AND user_id = $2 AND status = 'in_progress'
    ), recent AS (
        SELECT o.id FROM interviews o, iv
        WHERE o.user_id = iv.user_id AND o.id <> iv.id
          AND (o.created_at, o.id) < (iv.created_at, iv.id)
        ORDER BY o.created_at DESC, o.id DESC LIMIT 3
    ), seen AS (
        SELECT DISTINCT t.question_id FROM interview_turns t
        WHERE t.user_id = $2 AND t.interview_id IN (SELECT id FROM recent)
          AND t.question_id IS NOT NULL
    ), here AS (
        SELECT question_id, question->>'competency' AS competency
        FROM interview_turns WHERE interview_id = $1
    ), pick AS (
        SELECT q.id, q.text, q.competency, q.difficulty, q.key_points, q.follow_ups,
               q.industry_id, q.role_id
        FROM questions q, iv
        WHERE q.difficulty = iv.difficulty
          AND (q.industry_id IS NULL OR q.industry_id = iv.industry_id)
          AND (q.role_id IS NULL OR q.role_id IS NOT DISTINCT FROM iv.role_id)
          AND NOT EXISTS (SELECT 1 FROM here h WHERE h.question_id = q.id)
        ORDER BY EXISTS (SELECT 1 FROM seen s WHERE s.question_id = q.id),
                 (SELECT count(*) FROM here h WHERE h.competency = q.competency),
                 random()
        LIMIT 1
    )
    INSERT INTO interview_turns (interview_id, user_id, ordinal, question_id, question)
    SELECT iv.id, iv.user_id,
           coalesce((SELECT max(ordinal) FROM interview_turns WHERE interview_id = iv.id), 0) + 1,
           p.id,
           jsonb_build_object('id', p.id, 'text', p.text, 'competency', p.competency,
                              'difficulty', p.difficulty, 'key_points', p.key_points,
                              'follow_ups', to_jsonb(p.follow_ups), 'industry', i.slug,
                              'role', r.slug)
    FROM pick p CROSS JOIN iv
    LEFT JOIN industries i ON i.id = p.industry_id
    LEFT JOIN roles r ON r.id = p.role_id
    RETURNING question->>'id' AS id)sql"};

// A follow-up turn: its snapshot from the feedback rules, its id the turn's own (what the
// client answers with), the parent's industry and role kept.
constexpr Statement kAskFollowUp{"iv_ask_follow_up", R"sql(
    WITH n AS (SELECT gen_random_uuid() AS id)
    INSERT INTO interview_turns (id, interview_id, user_id, ordinal, follow_up_of, question)
    SELECT n.id, p.interview_id, p.user_id,
           (SELECT max(ordinal) FROM interview_turns WHERE interview_id = p.interview_id) + 1,
           p.id,
           $4::jsonb || jsonb_build_object('id', n.id, 'industry', p.question->'industry',
                                           'role', p.question->'role')
    FROM n, interview_turns p
    WHERE p.id = $3 AND p.interview_id = $1 AND p.user_id = $2
    RETURNING question->>'id' AS id)sql"};

constexpr Statement kBankTurnsAsked{"iv_bank_turns_asked", R"sql(
    SELECT count(*) FROM interview_turns
    WHERE interview_id = $1 AND user_id = $2 AND follow_up_of IS NULL)sql"};

// ---- answers ----------------------------------------------------------------------------------

constexpr Statement kMarkProcessing{"iv_mark_processing", R"sql(
    UPDATE interview_turns
    SET answer_status = 'processing', session_id = $3, answer_text = NULL, feedback = NULL,
        scores = NULL, duration_s = NULL, over_time = false, answered_at = now()
    WHERE id = $2 AND user_id = $1)sql"};

// A typed answer's duration is the time it took since the question was asked; a voice
// answer's is its audio's. Past the interview's answer_time_s it is over time.
constexpr Statement kStoreAnswer{"iv_store_answer", R"sql(
    UPDATE interview_turns
    SET answer_status = 'done', answer_text = $3,
        duration_s = coalesce($4::float8, round(extract(epoch from now() - asked_at)::numeric, 3)::float8),
        over_time = $5::integer IS NOT NULL AND
                    coalesce($4::float8, extract(epoch from now() - asked_at)) > $5::integer,
        feedback = $6::jsonb, scores = $7::jsonb, answered_at = now()
    WHERE id = $2 AND user_id = $1)sql"};

constexpr Statement kFailAnswer{"iv_fail_answer", R"sql(
    UPDATE interview_turns SET answer_status = 'failed'
    WHERE session_id = $1 AND user_id = $2 AND answer_status = 'processing'
    RETURNING interview_id, ordinal, question->>'id' AS question_key)sql"};

constexpr Statement kPendingTurn{"iv_pending_turn", "SELECT " TURN_COLUMNS R"sql(
    WHERE t.session_id = $1 AND t.user_id = $2 AND t.answer_status = 'processing')sql"};
constexpr Statement kInterviewOfTurn{"iv_of_turn", R"sql(
    SELECT interview_id FROM interview_turns WHERE session_id = $1 AND user_id = $2)sql"};

// ---- scorecards and the dashboard ------------------------------------------------------------

constexpr Statement kFinish{"iv_finish", R"sql(
    UPDATE interviews
    SET status = 'finished', finished_at = now(), communication = $3::smallint,
        fluency = $4::smallint, confidence = $5::smallint, relevance = $6::smallint,
        structure = $7::smallint, overall = $8::smallint, scorecard = $9::jsonb
    WHERE id = $1 AND user_id = $2 AND status = 'in_progress')sql"};
constexpr Statement kScorecard{"iv_scorecard", R"sql(
    SELECT scorecard::text FROM interviews
    WHERE id = $1 AND user_id = $2 AND status = 'finished')sql",
                               kIdempotent};

// Finished interviews per week (Monday, UTC) or month, by when they were finished.
constexpr Statement kDashboard{"iv_dashboard", R"sql(
    SELECT api_time(date_trunc($2::text, i.finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS start,
           count(*) AS interviews,
           avg(i.overall)::float8 AS overall, avg(i.communication)::float8 AS communication,
           avg(i.fluency)::float8 AS fluency, avg(i.confidence)::float8 AS confidence,
           avg(i.relevance)::float8 AS relevance, avg(i.structure)::float8 AS structure
    FROM interviews i
    WHERE i.user_id = $1 AND i.status = 'finished'
      AND ($3::timestamptz IS NULL OR i.finished_at >= $3::timestamptz)
      AND ($4::timestamptz IS NULL OR i.finished_at < $4::timestamptz)
    GROUP BY date_trunc($2::text, i.finished_at AT TIME ZONE 'UTC')
    ORDER BY date_trunc($2::text, i.finished_at AT TIME ZONE 'UTC'))sql",
                               kIdempotent};
constexpr Statement kDashboardBest{"iv_dashboard_best", R"sql(
    SELECT i.id, api_time(i.finished_at) AS finished_at, ind.slug AS industry, r.slug AS role,
           i.overall
    FROM interviews i JOIN industries ind ON ind.id = i.industry_id
    LEFT JOIN roles r ON r.id = i.role_id
    WHERE i.user_id = $1 AND i.status = 'finished' AND i.overall IS NOT NULL
      AND ($2::timestamptz IS NULL OR i.finished_at >= $2::timestamptz)
      AND ($3::timestamptz IS NULL OR i.finished_at < $3::timestamptz)
    ORDER BY i.overall DESC, i.finished_at DESC, i.id DESC
    LIMIT 1)sql",
                                   kIdempotent};
constexpr Statement kRecentScores{"iv_recent_scores", R"sql(
    SELECT count(*) AS interviews,
           avg(overall)::float8 AS overall, avg(communication)::float8 AS communication,
           avg(fluency)::float8 AS fluency, avg(confidence)::float8 AS confidence,
           avg(relevance)::float8 AS relevance, avg(structure)::float8 AS structure
    FROM interviews
    WHERE user_id = $1 AND status = 'finished' AND finished_at >= now() - interval '30 days')sql",
                                  kIdempotent};

// ---- rows
// ----------------------------------------------------------------------------------------

Interview interview_from(const Result& r, int i) {
    Row row(r, i);
    Interview iv;
    iv.id = row.str("id");
    iv.user_id = row.str("user_id");
    iv.industry = row.str("industry");
    iv.role = row.opt("role");
    iv.difficulty = row.str("difficulty");
    iv.mode = row.str("mode");
    iv.status = row.str("status");
    iv.question_count = row.i64("question_count");
    if (!row.is_null("answer_time_s")) iv.answer_time_s = row.i64("answer_time_s");
    iv.current_question = row.opt("current_question");
    iv.created_at = row.str("created_at");
    iv.finished_at = row.opt("finished_at");
    iv.cursor_key = row.str("cursor_key");
    return iv;
}

std::optional<Interview> maybe_interview(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return interview_from(r, 0);
}

InterviewTurn turn_from(const Result& r, int i) {
    Row row(r, i);
    InterviewTurn t;
    t.id = row.str("id");
    t.ordinal = row.i64("ordinal");
    t.question_id = row.opt("question_id");
    t.follow_up_of = row.opt("follow_up_of");
    t.follow_up_of_turn = row.opt("follow_up_of_turn");
    t.question = row.str("question");
    t.question_key = row.str("question_key");
    t.answer_status = row.opt("answer_status");
    t.session_id = row.opt("session_id");
    t.answer_text = row.opt("answer_text");
    t.duration_s = row.opt_f64("duration_s");
    t.over_time = row.boolean("over_time");
    t.feedback = row.opt("feedback");
    t.scores = row.opt("scores");
    t.asked_at = row.str("asked_at");
    return t;
}

std::vector<std::optional<double>> competency_values(const Row& row) {
    std::vector<std::optional<double>> out;
    for (const char* c : kInterviewCompetencies) out.push_back(row.opt_f64(c));
    return out;
}

Param opt_int(const std::optional<int64_t>& v) {
    return v ? Param(std::to_string(*v)) : Param();
}

}  // namespace

std::optional<IndustryRef> industry_ref_by_slug(Db& db, const std::string& slug) {
    Result r = db.exec(kFindIndustry, {slug});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return IndustryRef{row.str("id"), row.str("slug")};
}

std::optional<InterviewRoleRef> interview_role_by_slug(Db& db, const std::string& slug) {
    Result r = db.exec(kFindRole, {slug});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return InterviewRoleRef{row.str("id"), row.str("slug"), row.str("industry_id"),
                            row.str("industry_slug")};
}

Preferences get_preferences(Db& db, const std::string& user_id) {
    Result r = db.exec(kGetPreferences, {user_id});
    Preferences p;
    if (r.rows() == 0) return p;
    Row row(r, 0);
    p.industry = row.opt("industry");
    p.role = row.opt("role");
    p.difficulty = row.str("difficulty");
    return p;
}

void put_preferences(Db& db, const std::string& user_id,
                     const std::optional<std::string>& industry_id,
                     const std::optional<std::string>& role_id, const std::string& difficulty) {
    db.exec(kPutPreferences, {user_id, industry_id, role_id, difficulty});
}

std::optional<Interview> insert_interview(Db& db, const std::string& user_id,
                                          const NewInterview& n) {
    std::string id =
        db.exec(kInsertInterview, {user_id, n.industry_id, n.role_id, n.difficulty, n.mode,
                                   std::to_string(n.question_count), opt_int(n.answer_time_s)})
            .scalar_str();
    if (db.exec(kAskBankQuestion, {id, user_id}).rows() == 0) return std::nullopt;
    return find_interview(db, user_id, id);
}

std::optional<Interview> find_interview(Db& db, const std::string& user_id, const std::string& id) {
    return maybe_interview(db.exec(kFindInterview, {id, user_id}));
}

std::optional<Interview> lock_interview(Db& db, const std::string& user_id, const std::string& id) {
    return maybe_interview(db.exec(kLockInterview, {id, user_id}));
}

std::vector<InterviewTurn> interview_turns(Db& db, const std::string& user_id,
                                           const std::string& interview_id) {
    Result r = db.exec(kTurns, {interview_id, user_id});
    std::vector<InterviewTurn> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(turn_from(r, i));
    return out;
}

std::optional<InterviewTurn> last_turn(Db& db, const std::string& user_id,
                                       const std::string& interview_id) {
    Result r = db.exec(kLastTurn, {interview_id, user_id});
    if (r.rows() == 0) return std::nullopt;
    return turn_from(r, 0);
}

std::vector<Interview> list_interviews(Db& db, const std::string& user_id, const InterviewFilter& f,
                                       int limit) {
    Result r = db.exec(kListInterviews, {user_id, f.status, f.industry, f.role, f.before_key,
                                         f.before_id, std::to_string(limit)});
    std::vector<Interview> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(interview_from(r, i));
    return out;
}

void mark_answer_processing(Db& db, const std::string& user_id, const std::string& turn_id,
                            const std::string& session_id) {
    db.exec(kMarkProcessing, {user_id, turn_id, session_id});
}

void store_answer(Db& db, const std::string& user_id, const std::string& turn_id,
                  const StoredAnswer& a) {
    Param duration;
    if (a.duration_s) duration = std::to_string(*a.duration_s);
    db.exec(kStoreAnswer, {user_id, turn_id, a.text, duration, opt_int(a.answer_time_s),
                           a.feedback_json, a.scores_json});
}

bool fail_voice_answer(Db& db, const std::string& user_id, const std::string& session_id) {
    Result r = db.exec(kFailAnswer, {session_id, user_id});
    if (r.rows() == 0) return false;
    Row row(r, 0);
    publish(db, Audience::user(user_id),
            interview_turn(row.str("interview_id"), row.i64("ordinal"), "failed",
                           row.str("question_key"), std::nullopt));
    return true;
}

std::optional<std::string> complete_answer(Db& db, const Interview& iv, const InterviewTurn& turn,
                                           const StoredAnswer& a,
                                           const std::string& follow_up_json) {
    store_answer(db, iv.user_id, turn.id, a);
    std::optional<std::string> next;
    // At most one follow-up per question: a follow-up's answer is never followed up again.
    if (!follow_up_json.empty() && !turn.follow_up_of_turn)
        next = ask_follow_up(db, iv, turn, follow_up_json);
    if (!next) next = ask_next_bank_question(db, iv);
    publish(db, Audience::user(iv.user_id),
            interview_turn(iv.id, turn.ordinal, "done", turn.question_key, next));
    return next;
}

std::optional<PendingAnswer> lock_pending_answer(Db& db, const std::string& user_id,
                                                 const std::string& session_id) {
    // The interview first (every path locks the interview before its turns).
    Result of = db.exec(kInterviewOfTurn, {session_id, user_id});
    if (of.rows() == 0) return std::nullopt;
    auto iv = lock_interview(db, user_id, Row(of, 0).str("interview_id"));
    if (!iv || iv->status != "in_progress") return std::nullopt;
    Result t = db.exec(kPendingTurn, {session_id, user_id});
    if (t.rows() == 0) return std::nullopt;
    return PendingAnswer{std::move(*iv), turn_from(t, 0)};
}

std::optional<std::string> ask_follow_up(Db& db, const Interview& iv, const InterviewTurn& of,
                                         const std::string& question_json) {
    Result r = db.exec(kAskFollowUp, {iv.id, iv.user_id, of.id, question_json});
    if (r.rows() == 0) return std::nullopt;
    return Row(r, 0).str("id");
}

std::optional<std::string> ask_next_bank_question(Db& db, const Interview& iv) {
    if (db.exec(kBankTurnsAsked, {iv.id, iv.user_id}).scalar_i64() >= iv.question_count)
        return std::nullopt;
    Result r = db.exec(kAskBankQuestion, {iv.id, iv.user_id});
    if (r.rows() == 0) return std::nullopt;
    return Row(r, 0).str("id");
}

void finish_interview(Db& db, const std::string& user_id, const std::string& id,
                      const FinishedScores& s) {
    db.exec(kFinish, {id, user_id, std::to_string(s.communication), std::to_string(s.fluency),
                      std::to_string(s.confidence), std::to_string(s.relevance),
                      std::to_string(s.structure), std::to_string(s.overall), s.scorecard_json});
}

std::optional<std::string> interview_scorecard(Db& db, const std::string& user_id,
                                               const std::string& id) {
    Result r = db.exec(kScorecard, {id, user_id});
    if (r.rows() == 0) return std::nullopt;
    return r.scalar_str();
}

Dashboard interview_dashboard(Db& db, const std::string& user_id, const std::string& bucket,
                              const std::optional<std::string>& from,
                              const std::optional<std::string>& to) {
    Dashboard d;
    Result r = db.exec(kDashboard, {user_id, bucket, from, to});
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        d.buckets.push_back({row.str("start"), row.i64("interviews"), competency_values(row)});
    }
    Result b = db.exec(kDashboardBest, {user_id, from, to});
    if (b.rows() > 0) {
        Row row(b, 0);
        d.best = DashboardBest{row.str("id"), row.str("finished_at"), row.str("industry"),
                               row.opt("role"), row.i64("overall")};
    }
    return d;
}

RecentInterviews recent_interview_scores(Db& db, const std::string& user_id) {
    Result r = db.exec(kRecentScores, {user_id});
    Row row(r, 0);
    return {row.i64("interviews"), competency_values(row)};
}

}  // namespace db
