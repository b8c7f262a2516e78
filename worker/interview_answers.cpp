// A transcribed voice answer becomes its turn's feedback (see interview_answers.h).
#include "worker/interview_answers.h"

#include <stdexcept>

#include "db/interviews.h"
#include "speech/interview_turn.h"

namespace worker {

void answer_interview_turn(db::Db& db, const db::Job& job, const speech::Transcript& t,
                           double duration_s, const speech::Analysis& a) {
    auto pending = db::lock_pending_answer(db, job.user_id, job.session_id);
    if (!pending) return;
    const db::Interview& iv = pending->interview;
    const db::InterviewTurn& turn = pending->turn;
    auto q = speech::interview::parse_question(turn.question);
    if (!q) throw std::runtime_error("interview turn " + turn.id + ": its question does not parse");
    speech::interview::Answer answer;
    answer.text = t.text;
    answer.transcript = &t;
    answer.analysis = &a;
    answer.duration_s = duration_s;
    speech::interview::AnalysedAnswer r = speech::interview::analyse_answer(
        *q, answer, iv.difficulty, turn.follow_up_of_turn.has_value());
    db::StoredAnswer stored{t.text, duration_s, iv.answer_time_s, r.feedback_json, r.scores_json};
    db::complete_answer(db, iv, turn, stored, r.follow_up_json);
}

void fail_interview_turn(db::Db& db, const db::Job& job) {
    db::fail_voice_answer(db, job.user_id, job.session_id);
}

}  // namespace worker
