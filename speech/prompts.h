// Voice-to-tasks: a memo's transcript split into prompts, one instruction per sentence-like
// unit ("First call the supplier. Then book a room." -> ["Call the supplier", "Book a room"]),
// and the task title taken from them. Pure functions of the recogniser's words: no audio, no
// database, no state.
#pragma once

#include <string>
#include <vector>

#include "speech/transcript.h"

namespace speech {

struct PromptRules {
    // Silence between two words (fillers counted as silence: a filled pause between two
    // thoughts is still a pause) at or above this cuts a prompt. 0.45 s: on the human read
    // sentences of the shared set the pauses between sentences are 0.46-0.70 s and the gaps
    // inside them at most 0.12 s; on espeak-ng memos 0.5-0.9 s against at most 0.35 s inside
    // (bench/prompt_split.py sweeps it: recall falls fast above 0.6, precision stays flat from
    // 0.35 up).
    double pause_s = 0.45;
    // A prompt shorter than this (in words) after the clean-up is not an instruction of its
    // own: it joins its neighbour across a pause ("call the supplier ... tomorrow") or, if
    // only discourse words ("okay", "thanks"), is dropped. A piece that a cue word opened
    // ("then ship") is kept whatever its length: the speaker cut there on purpose.
    size_t min_words = 2;
};

// The prompts of a memo: cut at pauses and at cue words ("then", "next", "after that", "also",
// "and then", "first", "second", "third", "finally", "lastly"), with fillers, immediate
// repetitions ("i i need", "we should we should") and leading cue/discourse words removed,
// each one trimmed, single-spaced and capitalised. A cue word inside a clause is not a cut
// ("the first draft", "next week", "by then", "we also need", "if it fails then call me").
// Empty for a transcript with no words (silence, only fillers).
std::vector<std::string> split_prompts(const Transcript& t, const PromptRules& rules = {});

// A prompt and the time it was said: from its first kept word's start to its last one's end
// (the benchmark matches cuts by time; the task stores the text).
struct Prompt {
    std::string text;
    double start_s = 0;
    double end_s = 0;
};
std::vector<Prompt> split_prompt_spans(const Transcript& t, const PromptRules& rules = {});

// The longest title a memo gives a task, in characters.
inline constexpr size_t kMemoTitleMaxChars = 80;

// A task title from a memo's prompts: the first prompt, cut at a word boundary to at most
// kMemoTitleMaxChars characters (a first word longer than that is cut inside it, at a
// character boundary). Empty when there are no prompts.
std::string memo_title(const std::vector<std::string>& prompts);

// The prompts within a store's bounds: each at most `max_chars` characters (a longer one goes on
// in the next prompt, cut at a word boundary, capitalised), at most `max_count` of them (the
// rest dropped: the whole text stays in the transcript). max_chars > 0.
std::vector<std::string> fit_prompts(const std::vector<std::string>& prompts, size_t max_chars,
                                     size_t max_count);

}  // namespace speech
