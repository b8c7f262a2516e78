// `rostrum worker`: a small master and worker.threads decoder processes (one pocketsphinx
// each; pocketsphinx 5prealpha crashes with two decoders in one process) claiming jobs from
// PostgreSQL. Decoder 0 serves only the short lane when there are two or more, so a short clip
// never waits behind long ones. Each decoder's lease on its job is kept by a timer thread
// (LeaseKeeper). A decoder that dies is logged (pid, signal, job) and replaced, with a brake
// (its job runs again after the lease). SIGTERM: stop claiming, release the jobs in hand at
// their next checkpoint, exit 0. --drain (cron): process what is queued, then exit: 0, or 1
// when a decoder died meanwhile; under an flock on <data>/worker-drain.lock (a second run exits
// 0 at once), claiming nothing after worker.drain_budget_s (the jobs in hand are finished).
#pragma once

#include "core/config.h"

namespace worker {

int run_worker_daemon(const core::Config& cfg, bool drain);

}  // namespace worker
