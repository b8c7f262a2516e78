// Drafting a scribe session's clinical note when its job completes.
#include "worker/scribe_notes.h"

#include "db/clinical_notes.h"
#include "db/events.h"
#include "db/sessions.h"
#include "speech/clinical_note.h"

namespace worker {
namespace {

std::vector<speech::Word> stored_words(db::Db& db, const std::string& session_id) {
    std::vector<speech::Word> out;
    for (const auto& w : db::session_words(db, session_id))
        out.push_back({w.word, w.start_s, w.end_s, w.confidence, w.filler});
    return out;
}

}  // namespace

void draft_scribe_note(db::Db& db, const db::Job& job, const speech::Transcript* t) {
    auto s = db::find_session_for_job(db, job.session_id);
    if (!s || s->kind != "scribe" || db::has_note(db, s->id)) return;
    const speech::ClinicalNote draft =
        speech::draft_clinical_note(t ? t->words : stored_words(db, s->id));
    db::NoteText text{draft.summary, draft.subjective, draft.objective, draft.assessment,
                      draft.plan};
    if (!db::insert_draft_note(db, s->id, s->user_id, text)) return;  // a concurrent draft won
    db::publish(db, db::Audience::user(s->user_id), db::note_updated(s->id, "draft", 1, "drafted"));
}

}  // namespace worker
