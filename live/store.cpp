// A live stream becomes a recorded session: the transcript is the live one (the words the
// user saw), and the worker runs the full analysis on the stored audio.
#include "live/store.h"

#include "core/temp_file.h"
#include "db/projects.h"
#include "db/session_jobs.h"
#include "db/sessions.h"

namespace live {
namespace {

std::vector<db::StoredWord> stored_words(const std::vector<speech::Word>& words) {
    std::vector<db::StoredWord> out;
    out.reserve(words.size());
    for (const auto& w : words) out.push_back({w.word, w.start_s, w.end_s, w.confidence, w.filler});
    return out;
}

db::NewSession new_session(const SavedStream& s) {
    db::NewSession ns;
    ns.id = s.session_id;
    ns.user_id = s.target.user_id;
    ns.kind = s.target.kind;
    ns.title = s.target.title;
    ns.audio_path = s.audio_path;
    ns.audio_format = "wav";
    ns.audio_mime = "audio/wav";
    ns.audio_bytes = s.audio_bytes;
    ns.duration_s = s.duration_s;
    ns.language = s.language;
    ns.patient_id = s.target.patient_id;
    ns.project_id = s.target.project_id;
    ns.consent = s.target.consent;
    return ns;
}

}  // namespace

std::string store_saved_stream(db::Db& db, const SavedStream& s) {
    core::FileGuard guard(s.target.audio_dir + "/" + s.audio_path);
    db::NewSession ns = new_session(s);
    // The project was the user's to see at the upgrade; one deleted or left since then costs
    // the recording its link, never the recording (it cannot be sent again).
    if (ns.project_id && !db::project_visible(db, *ns.project_id, ns.user_id))
        ns.project_id.reset();
    auto store = [&] {
        // The transcript stands; what remains is the analysis (the worker's "analyze" job). The
        // stream is over and cannot be sent again: it is stored whatever the user's queue.
        return db::create_session(db, ns, db::SessionStart::analyse,
                                  /*quota=*/std::nullopt, [&](const db::Session& r) {
                                      db::replace_words(db, r.id, stored_words(s.words));
                                      db::store_transcript(db, r.id, s.text, s.engine + " (live)",
                                                           s.duration_s);
                                  });
    };
    db::Session row;
    try {
        row = store();
    } catch (const db::DbError& e) {
        if (e.constraint != "sessions_project_fk") throw;
        ns.project_id.reset();  // deleted between the check and the insert
        row = store();
    }
    guard.release();
    return row.id;
}

}  // namespace live
