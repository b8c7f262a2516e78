// The interview simulator (API.md "Interviews"): preferences, interviews and their turns,
// typed answers (analysed at once, 201) and voice answers (the upload path of POST /sessions:
// a session of kind interview, 202; worker/interview_answers.cpp analyses it), the scorecard
// and the progress dashboard. What an answer is worth comes from speech/interview_feedback.h
// (through speech/interview_turn.h, the same for every path); which question comes next and
// the storage from db/interviews.h. Every query carries the caller's id: another user's
// interview answers 404 on every route.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/json.h"
#include "core/numbers.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "core/utf8.h"
#include "db/interviews.h"
#include "db/progress.h"
#include "db/session_jobs.h"
#include "db/session_rules.h"
#include "db/sessions.h"
#include "fcgi/exchange.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/uploads.h"
#include "speech/interview_turn.h"
#include "speech/languages.h"
#include "speech/speller.h"

namespace handlers {
namespace {

namespace iv = speech::interview;

// A typed answer's bound, in characters: about 10 minutes of speech at a fast pace, far
// beyond any answer an interviewer would sit through (interview_turns allows 20000).
constexpr int64_t kMaxAnswerChars = 10000;
constexpr const char* kDashboardBuckets[] = {"week", "month"};

// A slug as the settings lists write it; the lookup decides whether it exists (422 if not).
constexpr int64_t kMaxSlugChars = 64;

// Text that is only blanks is no answer.
std::string answer_text_or_422(std::string_view v) {
    size_t b = v.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        throw core::ApiError::unprocessable("text", "must not be blank");
    size_t e = v.find_last_not_of(" \t\r\n");
    return std::string(v.substr(b, e - b + 1));
}

namespace interview_table {
using Rec = db::Interview;
// clang-format off
constexpr Field kFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "industry", .type = Type::string, .use = kOut | kCreate | kFilter, .get = FIELD_GET(industry),
     .min = 1, .max = kMaxSlugChars,
     .description = "the industry's slug (GET /industries); default: your preference (GET /me/preferences); unknown: 422"},
    {.name = "role", .type = Type::string, .use = kOut | kCreate | kFilter | kNullable, .get = FIELD_GET(role),
     .min = 1, .max = kMaxSlugChars,
     .description = "the role's slug (GET /roles), a role of the industry; default: your preferred role when it is one of "
                    "the industry's, else none (general questions only); unknown or of another industry: 422"},
    {.name = "difficulty", .type = Type::enumeration, .use = kOut | kCreate, .get = FIELD_GET(difficulty),
     .values = db::kInterviewDifficulties, .description = "default: your preference, else medium"},
    {.name = "mode", .type = Type::enumeration, .use = kOut | kCreate, .get = FIELD_GET(mode),
     .values = db::kInterviewModes,
     .description = "how you mean to answer (a hint for clients: every interview takes typed and voice answers)",
     .def = "voice"},
    {.name = "status", .type = Type::enumeration, .use = kOut | kFilter, .get = FIELD_GET(status),
     .values = db::kInterviewStatuses},
    {.name = "question_count", .type = Type::integer, .use = kOut | kCreate, .get = FIELD_GET(question_count),
     .min = 1, .max = 20,
     .description = "bank questions to ask; follow-ups come on top (at most one per question)", .def = "5"},
    {.name = "answer_time_s", .type = Type::integer, .use = kOut | kCreate | kNullable,
     .get = [](const void* p) -> Value {
         const auto& v = static_cast<const Rec*>(p)->answer_time_s;
         return v ? Value(*v) : Value();
     },
     .min = 30, .max = 600,
     .description = "seconds an answer should take at most: a longer one is marked over_time (voice: the audio's "
                    "length; typed: the time from the question to the answer); null: no limit"},
    {.name = "current_question", .type = Type::object, .use = kOut | kNullable, .get = FIELD_GET(current_question),
     .description = "the question to answer now: {id, text, competency, difficulty, key_points, follow_ups, industry, "
                    "role}; answer with its id. null while a voice answer is processed and once finished",
     .ref = "InterviewQuestion"},
    {.name = "turns", .type = Type::object, .use = kOut,
     .description = "every question asked, in order (GET /interviews/{id} only)", .ref = "InterviewTurns"},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "finished_at", .type = Type::timestamp, .use = kOut | kNullable, .get = FIELD_GET(finished_at)},
    // An answer: JSON (kBodyA) or an upload's form / query (kBodyB).
    {.name = "question_id", .type = Type::uuid, .use = kBodyA | kBodyB,
     .description = "the current question's id (current_question.id); any other: 409", .required = kBodyA | kBodyB},
    {.name = "text", .type = Type::text, .use = kBodyA, .min = 1, .max = kMaxAnswerChars,
     .description = "the typed answer", .required = kBodyA, .normalise = answer_text_or_422},
};
constexpr Body kBodies[] = {{kCreate, "InterviewCreate"},
                            {kBodyA, "InterviewAnswer"},
                            {kBodyB, "InterviewAnswerUpload", "file"}};
// clang-format on
}  // namespace interview_table

namespace preference_table {
using Rec = db::Preferences;
// clang-format off
constexpr Field kFields[] = {
    {.name = "industry", .type = Type::string, .use = kOut | kCreate | kNullable, .get = FIELD_GET(industry),
     .min = 1, .max = kMaxSlugChars, .description = "an industry's slug; unknown: 422"},
    {.name = "role", .type = Type::string, .use = kOut | kCreate | kNullable, .get = FIELD_GET(role),
     .min = 1, .max = kMaxSlugChars,
     .description = "a role's slug; sets the industry too when that is left out; of another industry: 422"},
    {.name = "difficulty", .type = Type::enumeration, .use = kOut | kCreate, .get = FIELD_GET(difficulty),
     .values = db::kInterviewDifficulties, .def = "medium"},
};
constexpr Body kBodies[] = {{kCreate, "InterviewPreferencesUpdate"}};
// clang-format on
}  // namespace preference_table

// clang-format off
constexpr Field kDashboardFields[] = {
    {.name = "bucket", .type = Type::enumeration, .use = kFilter | kOut, .values = kDashboardBuckets,
     .description = "week (Monday to Sunday, UTC) or month; default month"},
    {.name = "from", .type = Type::timestamp, .use = kFilter, .description = "interviews finished at or after"},
    {.name = "to", .type = Type::timestamp, .use = kFilter, .description = "interviews finished before"},
    {.name = "buckets", .type = Type::array, .use = kOut,
     .description = "oldest first: {start, interviews, overall, communication, fluency, confidence, relevance, "
                    "structure}, each score the average of the bucket's finished interviews (0-100)"},
    {.name = "trend", .type = Type::object, .use = kOut,
     .description = "per competency, the last bucket against the one before: {from, to, change, direction: "
                    "up|down|flat}; null when there are fewer than two buckets"},
    {.name = "best", .type = Type::object, .use = kOut | kNullable,
     .description = "the finished interview with the best overall score in the range: {interview_id, overall, "
                    "finished_at, industry, role}"},
};
// clang-format on

}  // namespace

constexpr Resource kInterviews{
    .schema = "Interview",
    .fields = interview_table::kFields,
    .bodies = interview_table::kBodies,
    .cursor_key = [](const void* p) -> Value {
        return static_cast<const db::Interview*>(p)->cursor_key;
    },
    .cursor_id = [](const void* p) -> Value { return static_cast<const db::Interview*>(p)->id; }};
constexpr Resource kInterviewPreferences{.schema = "InterviewPreferences",
                                         .fields = preference_table::kFields,
                                         .bodies = preference_table::kBodies};
constexpr Resource kInterviewDashboard{.schema = "InterviewDashboard", .fields = kDashboardFields};

namespace {

constexpr unsigned kAnswerJson = kBodyA;
constexpr unsigned kAnswerForm = kBodyB;

std::string path_id(const Request& req) {
    return std::string(req.path_param("id"));
}

core::ApiError no_such_interview() {
    return core::ApiError::not_found("no such interview");
}

// ---- JSON ---------------------------------------------------------------------------------------

void write_opt(core::JsonWriter& w, const std::optional<std::string>& v) {
    if (v)
        w.value(*v);
    else
        w.null();
}

void write_answer(core::JsonWriter& w, const db::InterviewTurn& t) {
    if (!t.answer_status) {
        w.null();
        return;
    }
    w.begin_object().field("status", *t.answer_status).key("session_id");
    write_opt(w, t.session_id);
    w.key("text");
    write_opt(w, t.answer_text);
    w.key("duration_s");
    if (t.duration_s)
        w.raw(core::fixed3(*t.duration_s));
    else
        w.null();
    w.field("over_time", t.over_time).key("feedback");
    if (t.feedback)
        w.raw(*t.feedback);
    else
        w.null();
    w.end_object();
}

std::string interview_json(const db::Interview& row, const std::vector<db::InterviewTurn>& turns) {
    core::JsonWriter w;
    w.begin_object();
    write_fields(w, kInterviews, &row);
    w.key("turns").begin_array();
    for (const db::InterviewTurn& t : turns) {
        w.begin_object().key("question").raw(t.question).key("follow_up_of");
        write_opt(w, t.follow_up_of);
        w.key("answer");
        write_answer(w, t);
        w.end_object();
    }
    w.end_array().end_object();
    return w.take();
}

// The interview as GET /interviews/{id} shows it (after the caller's commit).
Response interview_response(Ctx& ctx, const std::string& user_id, const std::string& id,
                            int status) {
    auto row = db::find_interview(ctx.db, user_id, id);
    if (!row) throw no_such_interview();
    return Response::json(status, interview_json(*row, db::interview_turns(ctx.db, user_id, id)));
}

// ---- settings -----------------------------------------------------------------------------------

struct Choice {
    std::optional<db::IndustryRef> industry;
    std::optional<db::InterviewRoleRef> role;
};

db::IndustryRef industry_or_422(Ctx& ctx, const std::string& slug) {
    auto i = db::industry_ref_by_slug(ctx.db, slug);
    if (!i)
        throw core::ApiError::unprocessable("industry", "no such industry (see GET /industries)");
    return *i;
}

db::InterviewRoleRef role_or_422(Ctx& ctx, const std::string& slug) {
    auto r = db::interview_role_by_slug(ctx.db, slug);
    if (!r) throw core::ApiError::unprocessable("role", "no such role (see GET /roles)");
    return *r;
}

// The slugs as given, resolved: a role alone names its industry; a role of another industry
// than the one given is refused.
Choice resolve(Ctx& ctx, const std::optional<std::string>& industry,
               const std::optional<std::string>& role) {
    Choice c;
    if (industry) c.industry = industry_or_422(ctx, *industry);
    if (role) {
        c.role = role_or_422(ctx, *role);
        if (c.industry && c.role->industry_id != c.industry->id)
            throw core::ApiError::unprocessable(
                "role", "is a role of " + c.role->industry_slug + ", not of " + c.industry->slug);
        if (!c.industry) c.industry = db::IndustryRef{c.role->industry_id, c.role->industry_slug};
    }
    return c;
}

db::Param id_of(const std::optional<db::IndustryRef>& i) {
    return i ? db::Param(i->id) : db::Param();
}

}  // namespace

Response interview_preferences_get(Request& req, Ctx& ctx) {
    db::Preferences p = db::get_preferences(ctx.db, req.user().id);
    return Response::json(200, to_json(kInterviewPreferences, p));
}

Response interview_preferences_put(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kInterviewPreferences, body.get(), kCreate);
    Choice c = resolve(ctx, in.str("industry"), in.str("role"));
    const std::string difficulty = *in.str("difficulty");
    db::put_preferences(ctx.db, req.user().id, id_of(c.industry),
                        c.role ? db::Param(c.role->id) : db::Param(), difficulty);
    return interview_preferences_get(req, ctx);
}

// ---- interviews ------------------------------------------------------------------------------

namespace {

// What the body leaves out comes from the preferences: the industry (required one way or the
// other), the role when it belongs to the chosen industry, the difficulty (else medium).
db::NewInterview new_interview(Ctx& ctx, const std::string& user_id, const Input& in) {
    Choice c = resolve(ctx, in.str("industry"), in.str("role"));
    db::Preferences prefs = db::get_preferences(ctx.db, user_id);
    if (!c.industry) {
        if (!prefs.industry)
            throw core::ApiError::unprocessable(
                "industry", "is required: give one, or set it in PUT /me/preferences");
        c = resolve(ctx, prefs.industry, prefs.role);
    } else if (!c.role && prefs.role && !in.str("role")) {
        auto r = db::interview_role_by_slug(ctx.db, *prefs.role);
        if (r && r->industry_id == c.industry->id) c.role = r;
    }
    db::NewInterview n;
    n.industry_id = c.industry->id;
    if (c.role) n.role_id = c.role->id;
    n.difficulty = in.str("difficulty").value_or(prefs.difficulty);
    n.mode = *in.str("mode");
    n.question_count = std::stoll(*in.str("question_count"));
    if (auto t = in.str("answer_time_s")) n.answer_time_s = std::stoll(*t);
    return n;
}

}  // namespace

Response interviews_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kInterviews, body.get(), kCreate);
    const std::string user_id = req.user().id;
    db::NewInterview n = new_interview(ctx, user_id, in);
    db::Tx tx(ctx.db);
    auto row = db::insert_interview(ctx.db, user_id, n);
    if (!row)  // rolled back by tx
        throw core::ApiError::unprocessable(
            "difficulty", "the question bank has no " + n.difficulty +
                              " question for this industry and role: choose another difficulty");
    tx.commit();
    return interview_response(ctx, user_id, row->id, 201)
        .header("Location", "/api/v1/interviews/" + row->id);
}

Response interviews_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kInterviews, req);
    Page p = read_page(req);
    db::InterviewFilter f{q.str("status"), q.str("industry"), q.str("role"), p.key, p.id};
    std::vector<db::Interview> rows = db::list_interviews(ctx.db, req.user().id, f, p.limit + 1);
    return list_response(kInterviews, rows, p.limit);
}

Response interviews_get(Request& req, Ctx& ctx) {
    return interview_response(ctx, req.user().id, path_id(req), 200);
}

// ---- answers -----------------------------------------------------------------------------------

namespace {

// The turn an answer to `question_id` is for, from the locked (or just read) interview: 409
// unless the interview is in progress and its last turn is the question and open (never
// answered, or a voice answer that failed).
db::InterviewTurn open_turn_or_409(Ctx& ctx, const db::Interview& row,
                                   const std::string& question_id) {
    if (row.status != "in_progress")
        throw core::ApiError::conflict("question_id", "the interview is finished");
    auto t = db::last_turn(ctx.db, row.user_id, row.id);
    if (!t || t->question_key != question_id)
        throw core::ApiError::conflict("question_id",
                                       "is not the current question (current_question.id)");
    if (t->answer_status == "processing")
        throw core::ApiError::conflict("question_id", "its voice answer is being processed");
    if (t->answer_status == "done")
        throw core::ApiError::conflict("question_id", "was answered already");
    return *t;
}

iv::Question question_of(const db::InterviewTurn& t) {
    auto q = iv::parse_question(t.question);
    if (!q) throw std::runtime_error("interview turn " + t.id + ": its question does not parse");
    return *q;
}

// One dictionary per process, opened on the first typed answer (hunspell-en-us; without it
// spelling is not checked and the rest of the feedback stands).
const iv::Speller& speller() {
    static const iv::Speller s;
    return s;
}

std::string read_json_text(Request& req, Ctx& ctx) {
    fcgi::read_body(req, static_cast<size_t>(ctx.cfg.api_max_body_bytes));
    if (req.body.empty()) throw core::ApiError::bad_request("the body is empty");
    return req.body;
}

Response typed_answer(Request& req, Ctx& ctx, const std::string& user_id, const std::string& id) {
    if (req.query.items().size() > 0)
        throw core::ApiError::bad_request("a typed answer sends question_id in its JSON body",
                                          "question_id");
    core::JsonPtr body = core::parse_json_strict(read_json_text(req, ctx));
    Input in = read_body(kInterviews, body.get(), kAnswerJson);
    const std::string question_id = *in.str("question_id");
    const std::string text = *in.str("text");
    {
        db::Tx tx(ctx.db);
        auto row = db::lock_interview(ctx.db, user_id, id);
        if (!row) throw no_such_interview();
        db::InterviewTurn turn = open_turn_or_409(ctx, *row, question_id);
        iv::Answer a;
        a.text = text;
        iv::AnalysedAnswer r = iv::analyse_answer(question_of(turn), a, row->difficulty,
                                                  turn.follow_up_of_turn.has_value(), &speller());
        db::StoredAnswer stored{text, std::nullopt, row->answer_time_s, r.feedback_json,
                                r.scores_json};
        db::complete_answer(ctx.db, *row, turn, stored, r.follow_up_json);
        tx.commit();
    }
    return interview_response(ctx, user_id, id, 201);
}

// At most `max` characters of valid UTF-8 text, cut at a character boundary.
std::string cut_chars(const std::string& s, size_t max) {
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
        if (chars++ == max) return s.substr(0, i);
    }
    return s;
}

// The session of a voice answer: kind interview, titled after the question.
db::NewSession answer_session(Ctx& ctx, const ReceivedAudio& up, const std::string& user_id,
                              const db::InterviewTurn& turn) {
    db::NewSession s;
    s.id = core::new_uuid();
    s.user_id = user_id;
    s.kind = "interview";
    s.title = cut_chars("Interview answer: " + question_of(turn).text, db::kSessionTitleMaxChars);
    s.language = speech::kDefaultLanguage;
    speech::require_installed(ctx.cfg.model_root, s.language);
    s.audio_format = up.info.format;
    s.audio_mime = up.info.mime;
    s.audio_bytes = up.file->size();
    if (up.info.duration_s >= 0) s.duration_s = up.info.duration_s;
    s.audio_path = s.id + "." + up.info.format;
    return s;
}

Response voice_answer(Request& req, Ctx& ctx, const std::string& user_id, const std::string& id) {
    job_quota_or_throw(ctx, user_id);  // before the body is read
    ReceivedAudio up = receive_audio(req, ctx, body_fields(kInterviews, kAnswerForm));
    Input in = read_form(kInterviews, up.fields, kAnswerForm);
    const std::string question_id = *in.str("question_id");
    auto row = db::find_interview(ctx.db, user_id, id);
    if (!row) throw no_such_interview();
    // Checked now so that a refused answer never stores its file; checked again under the
    // interview's lock in the session's transaction.
    db::InterviewTurn turn = open_turn_or_409(ctx, *row, question_id);
    db::NewSession ns = answer_session(ctx, up, user_id, turn);
    const std::string final_path = audio_dir(ctx) + "/" + ns.audio_path;
    try {
        up.file->commit_to(final_path);
    } catch (const core::DiskFullError&) {
        throw core::ApiError::insufficient_storage();
    }
    core::FileGuard guard(final_path);  // removed again unless the rows commit
    create_or_throw(ctx, [&](db::JobQuota quota) {
        return db::create_session(
            ctx.db, ns, db::SessionStart::transcribe, quota, [&](const db::Session& s) {
                auto locked = db::lock_interview(ctx.db, user_id, id);
                if (!locked) throw no_such_interview();
                db::InterviewTurn t = open_turn_or_409(ctx, *locked, question_id);
                db::mark_answer_processing(ctx.db, user_id, t.id, s.id);
            });
    });
    guard.release();
    return interview_response(ctx, user_id, id, 202);
}

}  // namespace

Response interviews_answer(Request& req, Ctx& ctx) {
    const std::string user_id = req.user().id;
    const std::string id = path_id(req);
    // Another user's interview is refused before its body is read, whatever it holds.
    if (!db::find_interview(ctx.db, user_id, id)) throw no_such_interview();
    if (req.media_type() == "application/json") return typed_answer(req, ctx, user_id, id);
    return voice_answer(req, ctx, user_id, id);
}

// ---- the scorecard ------------------------------------------------------------------------------

namespace {

struct ScoredTurns {
    std::vector<iv::Question> questions;
    std::vector<iv::Feedback> feedback;
    std::vector<iv::ScoredTurn> turns;
    std::vector<const db::InterviewTurn*> rows;
    int bank_answered = 0;
};

ScoredTurns scored_turns(const std::vector<db::InterviewTurn>& turns) {
    ScoredTurns s;
    s.questions.reserve(turns.size());  // ScoredTurn points into these: no reallocation
    s.feedback.reserve(turns.size());
    for (const db::InterviewTurn& t : turns) {
        if (t.answer_status != "done" || !t.feedback || !t.scores) continue;
        auto f = iv::parse_feedback(*t.feedback);
        auto sc = iv::parse_scores(*t.scores);
        if (!f || !sc) continue;
        s.questions.push_back(question_of(t));
        s.feedback.push_back(std::move(*f));
        s.turns.push_back({&s.questions.back(), &s.feedback.back(), *sc});
        s.rows.push_back(&t);
        if (!t.follow_up_of_turn) ++s.bank_answered;
    }
    return s;
}

void write_sentences(core::JsonWriter& w, const std::vector<std::string>& v) {
    w.begin_array();
    for (const std::string& s : v) w.value(s);
    w.end_array();
}

std::string scorecard_json(const iv::Scorecard& c, const ScoredTurns& s, int skipped) {
    core::JsonWriter w;
    w.begin_object();
    w.field("communication", c.communication).field("fluency", c.fluency);
    w.field("confidence", c.confidence).field("relevance", c.relevance);
    w.field("structure", c.structure).field("overall", c.overall);
    w.field("answered", static_cast<int64_t>(s.rows.size())).field("skipped", skipped);
    w.key("per_question").begin_array();
    for (const db::InterviewTurn* t : s.rows) {
        w.begin_object().field("question_id", t->question_key).key("follow_up_of");
        write_opt(w, t->follow_up_of);
        w.key("scores").raw(*t->scores).key("feedback").raw(*t->feedback).end_object();
    }
    w.end_array().key("strengths");
    write_sentences(w, c.strengths);
    w.key("improvements");
    write_sentences(w, c.improvements);
    w.end_object();
    return w.take();
}

}  // namespace

Response interviews_finish(Request& req, Ctx& ctx) {
    const std::string user_id = req.user().id;
    const std::string id = path_id(req);
    db::Tx tx(ctx.db);
    auto row = db::lock_interview(ctx.db, user_id, id);
    if (!row) throw no_such_interview();
    if (row->status != "in_progress")
        throw core::ApiError::conflict("", "the interview is finished already (GET its scorecard)");
    std::vector<db::InterviewTurn> turns = db::interview_turns(ctx.db, user_id, id);
    if (!turns.empty() && turns.back().answer_status == "processing")
        throw core::ApiError::conflict("",
                                       "a voice answer is being processed: finish once its "
                                       "interview.turn event arrives");
    ScoredTurns s = scored_turns(turns);
    const int skipped = std::max<int>(0, static_cast<int>(row->question_count) - s.bank_answered);
    iv::Scorecard c = iv::score_interview(s.turns, skipped);
    db::FinishedScores f{c.communication,
                         c.fluency,
                         c.confidence,
                         c.relevance,
                         c.structure,
                         c.overall,
                         scorecard_json(c, s, skipped)};
    db::finish_interview(ctx.db, user_id, id, f);
    tx.commit();
    return Response::json(200, f.scorecard_json);
}

Response interviews_scorecard(Request& req, Ctx& ctx) {
    const std::string user_id = req.user().id;
    const std::string id = path_id(req);
    if (auto card = db::interview_scorecard(ctx.db, user_id, id)) return Response::json(200, *card);
    if (!db::find_interview(ctx.db, user_id, id)) throw no_such_interview();
    throw core::ApiError::conflict("", "the interview is in progress: POST /finish first");
}

// ---- the dashboard ----------------------------------------------------------------------------

namespace {

void write_number(core::JsonWriter& w, const std::optional<double>& v) {
    if (v)
        w.raw(core::fixed3(*v));
    else
        w.null();
}

void write_trend(core::JsonWriter& w, const std::vector<db::DashboardBucket>& b) {
    w.begin_object();
    for (size_t i = 0; i < std::size(db::kInterviewCompetencies); ++i) {
        w.key(db::kInterviewCompetencies[i]);
        std::optional<double> from, to;
        if (b.size() >= 2) {
            from = b[b.size() - 2].values[i];
            to = b.back().values[i];
        }
        if (!from || !to) {
            w.null();
            continue;
        }
        double change = *to - *from;
        // Within half a point is no change: scores are whole numbers.
        const char* direction = std::fabs(change) < 0.5 ? "flat" : change > 0 ? "up" : "down";
        w.begin_object().key("from").raw(core::fixed3(*from)).key("to").raw(core::fixed3(*to));
        w.key("change").raw(core::fixed3(change)).field("direction", direction).end_object();
    }
    w.end_object();
}

}  // namespace

Response dashboard_progress(Request& req, Ctx& ctx) {
    Input q = read_filters(kInterviewDashboard, req);
    const std::string bucket = q.str("bucket").value_or("month");
    auto from = q.str("from"), to = q.str("to");
    if (from && to && !db::range_ordered(ctx.db, *from, *to))
        throw core::ApiError::unprocessable("to", "must be later than from");
    db::Dashboard d = db::interview_dashboard(ctx.db, req.user().id, bucket, from, to);
    core::JsonWriter w;
    w.begin_object().field("bucket", bucket).key("buckets").begin_array();
    for (const db::DashboardBucket& b : d.buckets) {
        w.begin_object().field("start", b.start).field("interviews", b.interviews);
        for (size_t i = 0; i < std::size(db::kInterviewCompetencies); ++i) {
            w.key(db::kInterviewCompetencies[i]);
            write_number(w, b.values[i]);
        }
        w.end_object();
    }
    w.end_array().key("trend");
    write_trend(w, d.buckets);
    w.key("best");
    if (d.best) {
        w.begin_object().field("interview_id", d.best->interview_id);
        w.field("overall", d.best->overall).field("finished_at", d.best->finished_at);
        w.field("industry", d.best->industry).key("role");
        write_opt(w, d.best->role);
        w.end_object();
    } else {
        w.null();
    }
    w.end_object();
    return Response::json(200, w.take());
}

}  // namespace handlers
