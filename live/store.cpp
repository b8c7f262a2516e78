// A live stream becomes a recorded session: the transcript is the live one (the words the
// user saw), and the worker runs the full analysis on the stored audio.
#include "live/store.h"

#include "core/json.h"
#include "core/temp_file.h"
#include "db/events.h"
#include "db/jobs.h"
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
    return ns;
}

}  // namespace

std::string store_saved_stream(db::Db& db, const SavedStream& s) {
    core::FileGuard guard(s.target.audio_dir + "/" + s.audio_path);
    db::Tx tx(db);
    db::Session row = db::insert_session(db, new_session(s));
    db::replace_words(db, row.id, stored_words(s.words));
    db::store_transcript(db, row.id, s.text, s.engine + " (live)", s.duration_s);
    // The transcript stands; what remains is the analysis (the worker's "analyze" job).
    db::set_session_progress(db, row.id, "processing", 0.5);
    bool short_clip = s.duration_s <= db::kShortLaneSeconds;
    db::enqueue_job(db, "analyze", row.id, row.user_id, short_clip ? "short" : "long");
    core::JsonWriter w;
    w.begin_object().field("id", row.id).field("status", "processing");
    w.key("progress").raw("0.5").end_object();
    db::publish_event(db, row.user_id, "session.created", w.take());
    tx.commit();
    guard.release();
    return row.id;
}

}  // namespace live
