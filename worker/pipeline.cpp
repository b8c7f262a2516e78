// The transcribe and analyze jobs.
#include "worker/pipeline.h"

#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "core/log.h"
#include "core/numbers.h"
#include "db/events.h"
#include "db/sessions.h"
#include "speech/audio.h"
#include "speech/metrics.h"
#include "worker/interview_answers.h"
#include "worker/memo_prompts.h"
#include "worker/scribe_notes.h"

namespace worker {
namespace {

// Progress: stored on the session (fenced by the attempt) and announced as an event, in one
// transaction; and checkpoints where a lost lease or a shutdown is noticed. The lease itself is
// renewed by the decoder's LeaseKeeper, whatever the pace of these checkpoints.
class Progress {
  public:
    Progress(JobContext& ctx, const db::Job& job) : ctx_(ctx), job_(job) {}

    void stage(const char* name, double fraction) {
        checkpoint();
        db::Tx tx(ctx_.db);
        if (!db::report_progress(ctx_.db, job_, fraction))
            throw JobInterrupted(JobInterrupted::Why::lease_lost, "fenced off at progress");
        db::publish(ctx_.db, db::Audience::user(job_.user_id),
                    db::session_stage(job_.session_id, fraction, name));
        tx.commit();
        last_fraction_ = fraction;
    }

    // Called often (per decoded chunk, per utterance): two atomic loads.
    void checkpoint() {
        if (ctx_.lease_lost.load())
            throw JobInterrupted(JobInterrupted::Why::lease_lost,
                                 "lease lost: another worker owns the job now");
        if (ctx_.stopping.load())
            throw JobInterrupted(JobInterrupted::Why::shutdown, "shutting down");
    }

    // Recognition reports 0..1; it is shown as 0.15..0.85 of the whole job, at most every 10%.
    void recognizing(double f) {
        checkpoint();
        double overall = 0.15 + 0.7 * f;
        if (overall - last_fraction_ >= 0.1) stage("recognize", overall);
    }

  private:
    JobContext& ctx_;
    const db::Job& job_;
    double last_fraction_ = 0;
};

// A short-lane job whose audio decodes longer than the lane's bound: the lane was chosen from
// a header (or a duration) that lied. Thrown from the decoder's sink; the job moves lanes.
class LongerThanItsLane : public std::runtime_error {
  public:
    LongerThanItsLane() : std::runtime_error("longer than the short lane's bound") {}
};

std::vector<int16_t> decode(JobContext& ctx, const db::Job& job, const db::Session& s,
                            Progress& progress) {
    speech::AudioLimits limits{static_cast<double>(ctx.cfg.upload_max_seconds)};
    // The short lane's decoder must not spend itself on long audio: stop at the bound.
    const size_t short_bound =
        job.lane == "short" ? static_cast<size_t>(db::kShortLaneSeconds * speech::kTargetRate)
                            : SIZE_MAX;
    std::vector<int16_t> samples;
    speech::decode_16k_mono(ctx.cfg.data_dir + "/audio/" + s.audio_path, limits,
                            [&](const int16_t* p, size_t n) {
                                samples.insert(samples.end(), p, p + n);
                                if (samples.size() > short_bound) throw LongerThanItsLane();
                                progress.checkpoint();
                            });
    return samples;
}

// The decoded duration sets the job's budget (the header's may lie or be missing).
void decoded(JobContext& ctx, const std::vector<int16_t>& samples) {
    if (ctx.audio_seconds)
        ctx.audio_seconds(static_cast<double>(samples.size()) / speech::kTargetRate);
}

std::vector<db::StoredWord> stored(const speech::Transcript& t) {
    std::vector<db::StoredWord> out;
    out.reserve(t.words.size());
    for (const auto& w : t.words)
        out.push_back({w.word, w.start_s, w.end_s, w.confidence, w.filler});
    return out;
}

speech::Transcript from_stored(const std::vector<db::StoredWord>& words,
                               const std::string& engine) {
    speech::Transcript t;
    t.engine = engine;
    for (const auto& w : words) {
        t.words.push_back({w.word, w.start_s, w.end_s, w.confidence, w.filler});
        t.text += (t.text.empty() ? "" : " ") + w.word;
    }
    return t;
}

// Results and the job's completion in one transaction; nothing is written when fenced off.
void store(JobContext& ctx, const db::Job& job, const speech::Transcript* t, double duration_s,
           const speech::Analysis& a) {
    db::Tx tx(ctx.db);
    if (!db::complete_job(ctx.db, job))
        throw JobInterrupted(JobInterrupted::Why::lease_lost, "fenced off at completion");
    if (t) {
        db::replace_words(ctx.db, job.session_id, stored(*t));
        db::store_transcript(ctx.db, job.session_id, t->text, t->engine, duration_s);
        fill_memo_prompts(ctx.db, job.session_id, *t);  // a memo's task gets its prompts
    }
    db::store_analysis(ctx.db, job.session_id, speech::analysis_json(a), a.wpm, a.fillers.per_min,
                       a.scores.overall);
    db::mark_session_done(ctx.db, job.session_id);
    db::publish(ctx.db, db::Audience::user(job.user_id), db::session_done(job.session_id));
    if (t) answer_interview_turn(ctx.db, job, *t, duration_s, a);  // a voice answer's feedback
    draft_scribe_note(ctx.db, job, t);  // a scribe session's clinical note (scribe_notes.h)
    tx.commit();
}

void transcribe(JobContext& ctx, const db::Job& job, const db::Session& s, Progress& progress) {
    // First: a language that is not installed fails the job before any decoding.
    speech::Recognizer& recognizer = ctx.recognizers.get(s.language);
    progress.stage("decode", 0.05);
    std::vector<int16_t> samples = decode(ctx, job, s, progress);
    decoded(ctx, samples);
    double duration = static_cast<double>(samples.size()) / speech::kTargetRate;
    progress.stage("recognize", 0.15);
    speech::Transcript t = recognizer.transcribe(samples.data(), samples.size(),
                                                 [&](double f) { progress.recognizing(f); });
    progress.stage("analyse", 0.9);
    speech::Analysis a = speech::analyse(t, samples.data(), samples.size(), speech::kTargetRate);
    progress.stage("store", 0.95);
    store(ctx, job, &t, duration, a);
}

void reanalyse(JobContext& ctx, const db::Job& job, const db::Session& s, Progress& progress) {
    progress.stage("decode", 0.5);
    std::vector<int16_t> samples = decode(ctx, job, s, progress);
    decoded(ctx, samples);
    speech::Transcript t = from_stored(db::session_words(ctx.db, s.id), s.engine.value_or(""));
    progress.stage("analyse", 0.8);
    speech::Analysis a = speech::analyse(t, samples.data(), samples.size(), speech::kTargetRate);
    store(ctx, job, nullptr, 0, a);
}

const char* failure_verdict(db::FailOutcome outcome) {
    switch (outcome) {
        case db::FailOutcome::dead:
            return " failed for good: ";
        case db::FailOutcome::retry:
            return " will be retried: ";
        case db::FailOutcome::not_ours:
            break;
    }
    return " failed after its lease passed to another worker (nothing recorded): ";
}

// `user_text` is one fixed sentence per failure class: it is what the session's owner sees
// (sessions.error, the session.failed event) and what the job keeps. `detail` (library and
// database messages, paths) goes only to the log.
void record_failure(JobContext& ctx, const db::Job& job, const std::string& user_text,
                    const std::string& detail, bool permanent) {
    record_job_failure(ctx.db, job, user_text, detail, permanent);
}

std::string audio_error_text(const JobContext& ctx, const speech::AudioError& e) {
    using Kind = speech::AudioError::Kind;
    switch (e.kind) {
        case Kind::too_long:  // "too_long" leads, as before: clients match on it
            return "too_long: the recording is longer than the limit of " +
                   std::to_string(ctx.cfg.upload_max_seconds) + " s";
        case Kind::empty:
            return "the recording holds no audio";
        case Kind::invalid:
        case Kind::unreadable:
            break;
    }
    return "the recording could not be decoded";
}

// Graceful shutdown: the job and its session go back to `queued` (and the owner is told) in one
// transaction, so the next worker starts it afresh.
void release(JobContext& ctx, const db::Job& job) {
    db::Tx tx(ctx.db);
    if (!db::release_job(ctx.db, job)) return;  // not ours any more: nothing to give back
    db::publish(ctx.db, db::Audience::user(job.user_id), db::session_requeued(job.session_id));
    tx.commit();
}

// The file under the data directory could not be opened. Its path is for the log only: the
// session's error is shown to its owner. A missing file will not come back: permanent.
void record_file_failure(JobContext& ctx, const db::Job& job, const std::system_error& e) {
    bool missing = e.code() == std::errc::no_such_file_or_directory;
    record_failure(ctx, job,
                   missing ? "the audio file is missing" : "the audio file cannot be read",
                   e.what(), missing);
}

// The session's header (or its stored duration) put it on the short lane, and it decoded
// longer: back to queued on the long lane, the attempt not counted, the owner told.
void move_to_long_lane(JobContext& ctx, const db::Job& job) {
    db::Tx tx(ctx.db);
    if (!db::move_job_to_long_lane(ctx.db, job)) return;  // not ours any more
    db::publish(ctx.db, db::Audience::user(job.user_id), db::session_requeued(job.session_id));
    tx.commit();
    core::log_info("job " + std::to_string(job.id) + " decodes longer than " +
                   std::to_string(static_cast<int>(db::kShortLaneSeconds)) +
                   " s: moved to the long lane");
}

}  // namespace

void record_job_failure(db::Db& db, const db::Job& job, const std::string& user_text,
                        const std::string& detail, bool permanent) {
    db::Tx tx(db);
    const db::FailOutcome outcome = db::fail_job(db, job, user_text, permanent);
    if (outcome == db::FailOutcome::dead) {
        db::mark_session_failed(db, job.session_id, user_text);
        fail_interview_turn(db, job);  // a voice answer's question is open again
        db::publish(db, db::Audience::user(job.user_id),
                    db::session_failed(job.session_id, user_text));
    }
    tx.commit();
    core::log_warn("job " + std::to_string(job.id) + " attempt " + std::to_string(job.attempts) +
                   failure_verdict(outcome) + user_text +
                   (detail.empty() ? "" : " (" + detail + ")"));
}

void run_job(JobContext& ctx, const db::Job& job) {
    auto session = db::find_session_for_job(ctx.db, job.session_id);
    if (!session) {  // deleted while queued: nothing to do
        db::complete_job(ctx.db, job);
        return;
    }
    if (session->duration_s && ctx.audio_seconds) ctx.audio_seconds(*session->duration_s);
    Progress progress(ctx, job);
    try {
        if (job.kind == "analyze") {
            reanalyse(ctx, job, *session, progress);
        } else {
            transcribe(ctx, job, *session, progress);
        }
    } catch (const JobInterrupted& e) {
        if (e.why == JobInterrupted::Why::shutdown) release(ctx, job);
        throw;
    } catch (const LongerThanItsLane&) {
        move_to_long_lane(ctx, job);
    } catch (const LanguageNotInstalled& e) {
        // Removed since the upload was accepted: trying again will not install it.
        record_failure(ctx, job, "the session's language is not installed", e.what(), true);
    } catch (const speech::AudioError& e) {
        // The file will not get better by trying again: permanent.
        record_failure(ctx, job, audio_error_text(ctx, e), e.what(), true);
    } catch (const std::system_error& e) {
        record_file_failure(ctx, job, e);
    } catch (const db::DbError& e) {
        if (e.connection_lost) throw;  // the lease expires and the job runs again elsewhere
        record_failure(ctx, job, "processing stopped on a database error", e.what(), false);
    } catch (const std::exception& e) {
        record_failure(ctx, job, "processing stopped on an internal error", e.what(), false);
    }
}

}  // namespace worker
