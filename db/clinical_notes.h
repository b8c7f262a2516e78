// The clinical note of a scribe session: its current state (clinical_notes) and every state it
// was in (clinical_note_versions, written by trigger, append-only). Every query a user reaches
// carries the caller's id; a session that is not the caller's scribe session has no note.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct NoteText {
    std::string summary, subjective, objective, assessment, plan;
};

struct Note {
    std::string session_id;
    std::string status;  // draft | approved
    int64_t version = 1;
    NoteText text;
    std::string updated_at;
    std::optional<std::string> approved_at;
    std::string sections_json;  // {subjective, objective, assessment, plan}, rendered
};

struct NoteVersion {
    int64_t version = 1;
    std::string at;
    std::optional<std::string> actor_id;  // null: the worker's draft
    std::string action, status;
    NoteText text;
    std::string sections_json;
    std::string session_id;
    std::string cursor_key;  // seq
};

// The worker's draft of a done scribe session, unless it has a note already (a reanalysis
// leaves a reviewed note alone). True when it was written. In the caller's transaction.
bool insert_draft_note(Db& db, const std::string& session_id, const std::string& user_id,
                       const NoteText& t);
bool has_note(Db& db, const std::string& session_id);

std::optional<Note> find_note(Db& db, const std::string& user_id, const std::string& session_id);

// A change to the caller's note, refused when the note is not in the state it needs.
enum class NoteChange { done, no_note, wrong_state };
struct NoteResult {
    NoteChange outcome;
    std::optional<Note> note;  // done: the note after the change
};
NoteResult edit_note(Db& db, const std::string& user_id, const std::string& session_id,
                     const NoteText& t);  // a draft only
NoteResult approve_note(Db& db, const std::string& user_id, const std::string& session_id);
NoteResult reopen_note(Db& db, const std::string& user_id, const std::string& session_id);

// The note's versions, newest first, keyset-paged by seq (before_key).
std::vector<NoteVersion> note_history(Db& db, const std::string& user_id,
                                      const std::string& session_id,
                                      const std::optional<std::string>& before_key, int limit);

}  // namespace db
