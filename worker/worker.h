// `rostrum worker`: decoder threads (one pocketsphinx each) claiming jobs from PostgreSQL.
// One thread serves only the short lane when there are two or more, so a short clip never
// waits behind long ones. SIGTERM: stop claiming, release the jobs in hand at their next
// checkpoint, exit 0. --drain: process what is queued, then exit.
#pragma once

#include "core/config.h"

namespace worker {

int run_worker_daemon(const core::Config& cfg, bool drain);

}  // namespace worker
