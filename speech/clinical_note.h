// Drafting a clinical note from a consultation's recognised words: pure functions (no I/O, no
// database), offline and explainable. Three steps, each one a function here so that it can be
// tested and explained on its own:
//   1. sentences rebuilt from the recogniser's pauses (pocketsphinx emits no punctuation);
//   2. an extractive summary: TextRank over the sentences (similarity = shared word stems,
//      Snowball English via libstemmer, a conversational and clinical stop-list removed);
//   3. SOAP sections filled by cue phrases and a small clinical lexicon, each sentence placed
//      in the one section whose cues weigh most, with the cues that decided it kept.
// Nothing is invented: every sentence of the note is a sentence the recording contains. A
// clinician must always review the draft (docs/scribe.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "speech/transcript.h"

namespace speech {

// A pause at least this long ends a sentence. Speakers pause 0.1–0.5 s between phrases of one
// sentence and 0.6–1.2 s between sentences (Goldman-Eisler's pause studies; Campione & Véronis
// 2002 put the breath-group boundary near 0.5–0.7 s in conversational speech). 0.7 s errs on
// the side of joining two sentences rather than cutting one, since a cut sentence can land in
// two different sections.
inline constexpr double kSentenceGapS = 0.7;
// A run longer than this without such a pause is cut at its longest inner pause: one sentence
// must not swallow a whole monologue (a fast speaker who never stops for 0.7 s).
inline constexpr size_t kMaxSentenceWords = 40;

struct Sentence {
    std::string text;  // words joined by spaces, fillers dropped, "I" capitalised, no final stop
    double start_s = 0;
    double end_s = 0;
};

// Fillers are dropped; a sentence is kept only when it has a word left.
std::vector<Sentence> rebuild_sentences(const std::vector<Word>& words,
                                        double gap_s = kSentenceGapS);

enum class Section { subjective, objective, assessment, plan, none };
const char* section_name(Section s);

// Where a sentence goes and why: the cues that matched, as "plan: we will" lines.
struct Placement {
    Section section = Section::none;
    std::vector<std::string> cues;
};
// `text` is lower-case words separated by spaces (what rebuild_sentences produces, any case).
Placement classify_sentence(std::string_view text);

// The stems of a sentence's content words (stop-list removed), lower case, in order.
std::vector<std::string> content_stems(std::string_view text);

// TextRank scores, one per sentence (they sum to about the sentence count; 0 for a sentence
// without content words).
std::vector<double> textrank(const std::vector<std::vector<std::string>>& stems);

struct ClinicalNote {
    std::vector<Sentence> sentences;
    std::vector<Placement> placements;  // one per sentence
    std::vector<double> scores;         // TextRank, one per sentence
    std::string summary;                // the best sentences, in the order they were said
    std::string subjective, objective, assessment, plan;
};

// The whole draft. Sections and the summary are sentences ending with ". ", capitalised.
ClinicalNote draft_clinical_note(const std::vector<Word>& words);

}  // namespace speech
