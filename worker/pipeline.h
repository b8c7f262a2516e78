// One job, start to finish: decode → recognize → analyse → store, with progress events and the
// results written in one transaction with the job's completion. Every write is fenced by the
// job's attempt number: a worker whose lease expired (see LeaseKeeper) writes nothing.
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>

#include "core/config.h"
#include "db/jobs.h"
#include "db/pg.h"
#include "worker/recognizers.h"

namespace worker {

// Thrown from a progress checkpoint when the job must stop: the lease was lost (another
// worker owns the job now) or the process is shutting down (the job is released).
class JobInterrupted : public std::runtime_error {
  public:
    enum class Why { lease_lost, shutdown };
    JobInterrupted(Why w, const char* msg) : std::runtime_error(msg), why(w) {}
    Why why;
};

struct JobContext {
    db::Db& db;
    const core::Config& cfg;
    Recognizers& recognizers;  // the session's language picks one
    const std::atomic<bool>& stopping;
    // Set by the LeaseKeeper when the job was found no longer ours.
    const std::atomic<bool>& lease_lost;
    // Told the audio's duration in seconds once known (the upload's header, then decoding): the
    // job's time budget follows it (JobBudget).
    std::function<void(double)> audio_seconds;
};

// Runs the job to completion, retry or death; never throws for job-level failures (they are
// recorded on the job and the session). Throws JobInterrupted for the cases above, after
// handling them (released or abandoned).
void run_job(JobContext& ctx, const db::Job& job);

// A failed attempt, in one transaction: the job retried after its backoff or dead (permanent,
// or at max_attempts: then its session is failed and the owner told), and a log line. Also the
// master's, for a decoder it killed past the job's budget.
void record_job_failure(db::Db& db, const db::Job& job, const std::string& user_text,
                        const std::string& detail, bool permanent);

}  // namespace worker
