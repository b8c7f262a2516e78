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

// One batch. The files go before the commit: a failed unlink (other than already gone) throws,
// the stamps roll back and the next pass tries again; a crash after the unlinks leaves rows
// the next pass stamps (their unlink then finds nothing). So a stamped row never keeps a file.
int expire_batch(db::Db& db, const std::string& audio_dir, int days) {
    db::Tx tx(db);
    db::Result r = db.exec(kExpire, {std::to_string(days), std::to_string(kBatch)});
    for (int i = 0; i < r.rows(); ++i) {
        std::string path = audio_dir + "/" + db::Row(r, i).str("audio_path");
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw std::system_error(errno, std::generic_category(), "unlink " + path);
    }
    tx.commit();
    return r.rows();
}

}  // namespace

int64_t expire_scribe_audio(db::Db& db, const core::Config& cfg) {
    if (cfg.scribe_retention_days <= 0) return 0;
    const std::string dir = core::audio_dir(cfg);
    int64_t total = 0;
    for (;;) {
        int n = expire_batch(db, dir, cfg.scribe_retention_days);
        total += n;
        if (n < kBatch) break;
    }
    if (total)
        core::log_info("scribe retention removed the audio of " + std::to_string(total) +
                       " session(s) older than " + std::to_string(cfg.scribe_retention_days) +
                       " days");
    return total;
}

}  // namespace worker
