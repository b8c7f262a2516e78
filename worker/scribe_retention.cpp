// Scribe audio retention: batches of old scribe sessions, their files unlinked inside the
// transaction that stamps them.
#include "worker/scribe_retention.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/log.h"

namespace worker {
namespace {

constexpr int kBatch = 200;

// Rows locked with SKIP LOCKED: a session being changed elsewhere waits for the next pass.
constexpr db::Statement kExpire{"scribe_expire_audio", R"sql(
    UPDATE sessions s SET audio_deleted_at = now(), updated_at = now()
    WHERE s.id IN (
        SELECT c.id FROM sessions c
        WHERE c.kind = 'scribe' AND c.audio_deleted_at IS NULL
          AND c.created_at < now() - make_interval(days => $1::integer)
          AND NOT EXISTS (SELECT 1 FROM jobs j
                          WHERE j.session_id = c.id AND j.status IN ('queued', 'running'))
        ORDER BY c.created_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED)
    RETURNING s.audio_path)sql"};

// A row whose file could not be removed keeps its audio: its stamp is taken back in the same
// transaction, so the rest of the batch goes on (one unremovable file must not stop retention
// for every other session) and the next pass tries that one again.
constexpr db::Statement kKeepAudio{"scribe_keep_audio", R"sql(
    UPDATE sessions SET audio_deleted_at = NULL WHERE audio_path = $1)sql"};

struct Batch {
    int selected = 0;  // rows the batch stamped
    int removed = 0;   // of them, files gone (or already gone)
};

// One batch. The files go before the commit: a crash after the unlinks leaves rows the next
// pass stamps (their unlink then finds nothing). So a stamped row never keeps a file.
Batch expire_batch(db::Db& db, const std::string& audio_dir, int days) {
    db::Tx tx(db);
    db::Result r = db.exec(kExpire, {std::to_string(days), std::to_string(kBatch)});
    Batch b{r.rows(), 0};
    for (int i = 0; i < r.rows(); ++i) {
        const std::string name = db::Row(r, i).str("audio_path");
        const std::string path = audio_dir + "/" + name;
        if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
            ++b.removed;
            continue;
        }
        core::log_warn("scribe retention could not remove " + path + ": " + std::strerror(errno) +
                       " (kept; tried again on the next sweep)");
        db.exec(kKeepAudio, {name});
    }
    tx.commit();
    return b;
}

}  // namespace

int64_t expire_scribe_audio(db::Db& db, const core::Config& cfg) {
    if (cfg.scribe_retention_days <= 0) return 0;
    const std::string dir = core::audio_dir(cfg);
    int64_t total = 0;
    for (;;) {
        const Batch b = expire_batch(db, dir, cfg.scribe_retention_days);
        total += b.removed;
        // A short batch was the last; a batch of files none of which would go would come back
        // the same (the oldest first): stop until the next sweep.
        if (b.selected < kBatch || b.removed == 0) break;
    }
    if (total)
        core::log_info("scribe retention removed the audio of " + std::to_string(total) +
                       " session(s) older than " + std::to_string(cfg.scribe_retention_days) +
                       " days");
    return total;
}

}  // namespace worker
