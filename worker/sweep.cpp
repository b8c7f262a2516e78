// The orphan audio sweep: directory scans, the session lookup, the removals.
#include "worker/sweep.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"
#include "db/auth_failures.h"
#include "db/settings.h"
#include "worker/scribe_retention.h"

namespace worker {
namespace {

// Of a batch of stored file names, those that no session row names.
constexpr db::Statement kUnreferenced{"sweep_unreferenced_audio", R"sql(
    SELECT n FROM unnest($1::text[]) AS n
    WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE audio_path = n))sql",
                                      db::kIdempotent};
constexpr size_t kBatch = 500;

bool before(const timespec& t, const timespec& cutoff) {
    return t.tv_sec < cutoff.tv_sec || (t.tv_sec == cutoff.tv_sec && t.tv_nsec < cutoff.tv_nsec);
}

// Now minus `age_s`, on the clock the file system stamps files with.
timespec cutoff_of(int64_t age_s) {
    timespec now;
    if (::clock_gettime(CLOCK_REALTIME, &now) != 0)
        throw std::runtime_error(std::string("clock_gettime: ") + strerror(errno));
    now.tv_sec -= static_cast<time_t>(age_s);
    return now;
}

// Regular files of `dir` whose mtime and ctime are both before `cutoff`.
std::vector<std::string> old_files(const std::string& dir, const timespec& cutoff) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno != ENOENT) core::log_warn("sweep: cannot read " + dir + ": " + strerror(errno));
        return out;
    }
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st;
        if (::lstat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (is_old(st, cutoff)) out.push_back(name);
    }
    ::closedir(d);
    return out;
}

int64_t remove_all(const std::string& dir, const std::vector<std::string>& names) {
    int64_t n = 0;
    for (const std::string& name : names) {
        std::string path = dir + "/" + name;
        if (::unlink(path.c_str()) == 0) {
            ++n;
        } else if (errno != ENOENT) {
            core::log_warn("sweep: cannot remove " + path + ": " + strerror(errno));
        }
    }
    return n;
}

// A PostgreSQL text[] literal: every element quoted, with \ and " escaped.
std::string text_array(std::vector<std::string>::const_iterator begin,
                       std::vector<std::string>::const_iterator end) {
    std::string out = "{";
    for (auto it = begin; it != end; ++it) {
        if (it != begin) out += ',';
        out += '"';
        for (char c : *it) {
            if (c == '\\' || c == '"') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::vector<std::string> unreferenced(db::Db& db, const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (size_t i = 0; i < names.size(); i += kBatch) {
        auto end = names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), i + kBatch));
        db::Result r = db.exec(kUnreferenced,
                               {text_array(names.begin() + static_cast<std::ptrdiff_t>(i), end)});
        for (int row = 0; row < r.rows(); ++row) out.push_back(db::Row(r, row).str("n"));
    }
    return out;
}

}  // namespace

bool is_old(const struct stat& st, const timespec& cutoff) {
    return before(st.st_mtim, cutoff) && before(st.st_ctim, cutoff);
}

SweepCounts sweep_audio(db::Db& db, const core::Config& cfg) {
    const std::string audio = core::audio_dir(cfg);
    const timespec cutoff = cutoff_of(cfg.worker_sweep_age_s);
    SweepCounts c;
    c.tmp = remove_all(audio + "/tmp", old_files(audio + "/tmp", cutoff));
    std::vector<std::string> stored = old_files(audio, cutoff);
    if (!stored.empty()) c.stored = remove_all(audio, unreferenced(db, stored));
    db::prune_auth_failures(db);
    expire_scribe_audio(db, cfg);  // scribe.retention_days (worker/scribe_retention.h)
    return c;
}

AudioSweeper::AudioSweeper(const core::Config& cfg) : cfg_(cfg), thread_([this] { run(); }) {}

AudioSweeper::~AudioSweeper() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void AudioSweeper::run() {
    std::unique_lock<std::mutex> lock(mu_);
    do {
        lock.unlock();
        try {
            db::Db db(
                db::db_settings(cfg_, "worker-sweep",
                                60000));  // per pass: no connection lives across the master's forks
            SweepCounts c = sweep_audio(db, cfg_);
            if (c.tmp || c.stored)
                core::log_info("sweep removed " + std::to_string(c.tmp) +
                               " leftover file(s) from audio/tmp and " + std::to_string(c.stored) +
                               " audio file(s) without a session");
        } catch (const std::exception& e) {
            core::log_warn(std::string("sweep failed (next pass in ") +
                           std::to_string(cfg_.worker_sweep_interval_s) + " s): " + e.what());
        }
        lock.lock();
    } while (!wake_.wait_for(lock, std::chrono::seconds(cfg_.worker_sweep_interval_s),
                             [this] { return stopping_; }));
}

}  // namespace worker
