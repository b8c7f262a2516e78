// The interview simulator's rows (sql/migrations/0010_interviews.sql): preferences, interviews,
// their turns, the next question's choice, answers, scorecards and the progress dashboard.
// Every statement takes the caller's id and carries it in its WHERE clause: another user's
// interview finds nothing (404). The flow of an answer (lock, store, ask the next turn) is
// here; what the answer is worth is speech/interview_feedback.h's, called by the handler
// (typed answers) and the worker (voice answers) between these calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

inline constexpr const char* kInterviewDifficulties[] = {"easy", "medium", "hard"};
inline constexpr const char* kInterviewModes[] = {"voice", "text"};
inline constexpr const char* kInterviewStatuses[] = {"in_progress", "finished"};
// The competencies a scorecard and the dashboard report, as their columns are named.
inline constexpr const char* kInterviewCompetencies[] = {
    "overall", "communication", "fluency", "confidence", "relevance", "structure"};

// ---- settings: slugs -> ids ------------------------------------------------------------------

struct IndustryRef {
    std::string id, slug;
};
struct InterviewRoleRef {
    std::string id, slug, industry_id, industry_slug;
};
std::optional<IndustryRef> industry_ref_by_slug(Db& db, const std::string& slug);
std::optional<InterviewRoleRef> interview_role_by_slug(Db& db, const std::string& slug);

struct Preferences {
    std::optional<std::string> industry, role;  // slugs; null: none chosen
    std::string difficulty = "medium";
};
Preferences get_preferences(Db& db, const std::string& user_id);
// industry_id/role_id already resolved (and the role checked against the industry).
void put_preferences(Db& db, const std::string& user_id,
                     const std::optional<std::string>& industry_id,
                     const std::optional<std::string>& role_id, const std::string& difficulty);

// ---- interviews ------------------------------------------------------------------------------

struct InterviewTurn {
    std::string id;
    int64_t ordinal = 0;
    std::optional<std::string> question_id;        // the bank question (null: a follow-up)
    std::optional<std::string> follow_up_of;       // the parent turn's question id (API field)
    std::optional<std::string> follow_up_of_turn;  // the parent turn's row id
    std::string question;                          // the snapshot, JSON
    std::optional<std::string> answer_status;      // null | processing | done | failed
    std::optional<std::string> session_id, answer_text;
    std::optional<double> duration_s;
    bool over_time = false;
    std::optional<std::string> feedback, scores;  // JSON
    std::string asked_at;
    // The current question's id as a client sends it (question.id of the snapshot).
    std::string question_key;
};

struct Interview {
    std::string id, user_id;
    std::string industry;  // slug
    std::optional<std::string> role;
    std::string difficulty, mode, status;
    int64_t question_count = 5;
    std::optional<int64_t> answer_time_s;
    std::optional<std::string> current_question;  // the snapshot JSON, null when none is open
    std::string created_at;
    std::optional<std::string> finished_at;
    std::string cursor_key;
};

struct NewInterview {
    std::string industry_id;
    std::optional<std::string> role_id;
    std::string difficulty, mode;
    int64_t question_count = 5;
    std::optional<int64_t> answer_time_s;
};

// Inserts the interview and asks its first bank question, in the caller's transaction. The
// interview is nullopt when the bank holds no question for it (the caller rolls back: 422).
std::optional<Interview> insert_interview(Db& db, const std::string& user_id,
                                          const NewInterview& n);

std::optional<Interview> find_interview(Db& db, const std::string& user_id, const std::string& id);
// The same under FOR UPDATE (the caller is in a transaction): two answers, or an answer and
// /finish, of one interview run one after the other.
std::optional<Interview> lock_interview(Db& db, const std::string& user_id, const std::string& id);
std::vector<InterviewTurn> interview_turns(Db& db, const std::string& user_id,
                                           const std::string& interview_id);
// The last turn (the one a client answers), if any.
std::optional<InterviewTurn> last_turn(Db& db, const std::string& user_id,
                                       const std::string& interview_id);

struct InterviewFilter {
    std::optional<std::string> status, industry, role;  // slugs
    std::optional<std::string> before_key, before_id;
};
std::vector<Interview> list_interviews(Db& db, const std::string& user_id, const InterviewFilter& f,
                                       int limit);

// ---- answers ---------------------------------------------------------------------------------

// A voice answer was accepted: the turn is processing with its session (the session's own
// transaction, inside db::create_session's with_rows).
void mark_answer_processing(Db& db, const std::string& user_id, const std::string& turn_id,
                            const std::string& session_id);

struct StoredAnswer {
    std::string text;
    std::optional<double> duration_s;  // null: measured here as the time since it was asked
    std::optional<int64_t> answer_time_s;
    std::string feedback_json, scores_json;
};
// Stores an answered turn as done; over_time is computed from the duration and the limit.
void store_answer(Db& db, const std::string& user_id, const std::string& turn_id,
                  const StoredAnswer& a);
// A voice answer whose session failed for good: the turn is failed (it is the current question
// again: the client may answer it once more) and interview.turn {status: failed} is published,
// in the caller's transaction. False when the session answers no processing turn.
bool fail_voice_answer(Db& db, const std::string& user_id, const std::string& session_id);

// Stores the answer of `turn` (done), asks the next turn (the follow-up when follow_up_json is
// not empty and the turn is not a follow-up itself, else the next bank question while fewer
// than question_count were asked) and publishes interview.turn to the owner, in the caller's
// transaction (the interview locked). Returns the next question's id (nullopt: none asked).
std::optional<std::string> complete_answer(Db& db, const Interview& iv, const InterviewTurn& turn,
                                           const StoredAnswer& a,
                                           const std::string& follow_up_json);

// The turn of a processing voice answer, by its session (the worker's view: the job's owner
// is the session's user), its interview locked first. nullopt when there is none (not an
// interview session, or the interview was finished or deleted meanwhile).
struct PendingAnswer {
    Interview interview;
    InterviewTurn turn;
};
std::optional<PendingAnswer> lock_pending_answer(Db& db, const std::string& user_id,
                                                 const std::string& session_id);

// The turn after an answered one: a follow-up (question_json from the feedback rules: its id is
// made here, the turn's own) or the next bank question while fewer than question_count were
// asked, or none. Returns the new turn's question id (a follow-up's is its turn's id).
std::optional<std::string> ask_follow_up(Db& db, const Interview& iv, const InterviewTurn& of,
                                         const std::string& question_json);
std::optional<std::string> ask_next_bank_question(Db& db, const Interview& iv);

// ---- scorecards and the dashboard ----------------------------------------------------------

struct FinishedScores {
    int64_t communication = 0, fluency = 0, confidence = 0, relevance = 0, structure = 0,
            overall = 0;
    std::string scorecard_json;
};
void finish_interview(Db& db, const std::string& user_id, const std::string& id,
                      const FinishedScores& s);
// The stored scorecard; nullopt when the interview is unknown, another user's or not finished.
std::optional<std::string> interview_scorecard(Db& db, const std::string& user_id,
                                               const std::string& id);

struct DashboardBucket {
    std::string start;
    int64_t interviews = 0;
    std::vector<std::optional<double>> values;  // kInterviewCompetencies' averages, in order
};
struct DashboardBest {
    std::string interview_id, finished_at, industry;
    std::optional<std::string> role;
    int64_t overall = 0;
};
struct Dashboard {
    std::vector<DashboardBucket> buckets;
    std::optional<DashboardBest> best;
};
Dashboard interview_dashboard(Db& db, const std::string& user_id, const std::string& bucket,
                              const std::optional<std::string>& from,
                              const std::optional<std::string>& to);

// The caller's finished interviews of the last 30 days: averages per competency and count
// (recommendations).
struct RecentInterviews {
    int64_t interviews = 0;
    std::vector<std::optional<double>> values;  // kInterviewCompetencies, in order
};
RecentInterviews recent_interview_scores(Db& db, const std::string& user_id);

}  // namespace db
