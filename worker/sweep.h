// The sweep of orphan audio. Files are left behind when a process dies mid-write (an upload's
// `upload-*.part` or a live stream's `live-*.wav.part` in <data>/audio/tmp) and when a stored
// file outlives its row (an insert that never committed, an unlink after a delete that failed
// or never ran). Once older than worker.sweep_age_s, both kinds are removed: tmp files
// unconditionally, stored files when no session row names them. The pass also forgets stale
// per-account password back-off counters (db/auth_failures.h).
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <thread>

#include "core/config.h"
#include "db/pg.h"

namespace worker {

struct SweepCounts {
    int64_t tmp = 0;     // removed from audio/tmp
    int64_t stored = 0;  // removed from audio/ (no session row)
};

// One pass. A file counts as old by the later of its mtime and ctime: a rename (an upload
// committing into audio/) renews the ctime, so a file on its way to a row is never taken.
SweepCounts sweep_audio(db::Db& db, const core::Config& cfg);

// Whether both of the file's mtime and ctime are before `cutoff` (now - worker.sweep_age_s).
// To the nanosecond: by whole seconds, a file made at 10.1 s is not before a cutoff of
// 10.9 s, so a file older than the age by up to a second was kept, and a `worker --drain`,
// which makes one pass, left it.
bool is_old(const struct stat& st, const timespec& cutoff);

// Runs sweep_audio on a thread of its own: at once, then every worker.sweep_interval_s, until
// destroyed. The destructor waits for the pass in progress, so `worker --drain` always
// completes one. Construct it after the stop signals are blocked (the thread inherits the
// mask: SIGTERM must reach the thread that waits for it). It touches nothing a forked child
// uses: its connection is opened per pass, the log writes one write(2) per line.
class AudioSweeper {
  public:
    explicit AudioSweeper(const core::Config& cfg);
    ~AudioSweeper();
    AudioSweeper(const AudioSweeper&) = delete;
    AudioSweeper& operator=(const AudioSweeper&) = delete;

  private:
    void run();

    const core::Config& cfg_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace worker
