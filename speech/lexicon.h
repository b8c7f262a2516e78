// Word-level text helpers of the delivery analysis: normalisation, fillers, stop words, hedge
// matching, repeated phrases and vocabulary diversity. Private to speech/metrics.cpp.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace speech::lexicon {

// Lower case ASCII, surrounding punctuation removed ("Well," → "well"), pocketsphinx's
// alternate-pronunciation suffix dropped ("the(2)" → "the"). Markup tokens such as "<sil>",
// "[noise]" or "++breath++" become "" so the caller can skip them.
std::string normalize_word(std::string_view raw);

// The spellings of fillers counted even when the recognizer did not flag them.
bool is_filler_word(std::string_view word);

// Function words ("the", "of", "i", ...): an n-gram made only of these is not a "phrase".
bool is_stop_word(std::string_view word);

// One phrase per line, '#' starts a comment, words normalised and joined by single spaces;
// blank lines and duplicates dropped.
std::vector<std::string> parse_phrase_list(std::string_view text);

// The built-in hedge list (the same text as speech/hedges.txt).
std::string_view default_hedge_text();

struct PhraseCounts {
    int total = 0;
    std::map<std::string, int> by_phrase;
};

// Occurrences of the phrases in the word sequence. At each position the longest phrase that
// matches wins and matching resumes after it, so "i think" is not also counted as "think".
PhraseCounts count_phrases(const std::vector<std::string>& words,
                           const std::vector<std::string>& phrases);

struct RepeatedPhrase {
    std::string text;
    int count = 0;
};

// 2–4-word n-grams occurring at least twice without overlapping themselves, excluding
// n-grams made only of stop words. A phrase contained in a longer reported one with the same
// count is dropped ("end of the" inside "the end of the day"). Most frequent first, then
// longest, then alphabetical; at most `limit`.
std::vector<RepeatedPhrase> repeated_phrases(const std::vector<std::string>& words,
                                             size_t limit = 10);

// Distinct words / words, averaged over every 50-word window when there are more than 50
// words (the moving-average type-token ratio), so long talks are not penalised for length.
double unique_ratio(const std::vector<std::string>& words);

}  // namespace speech::lexicon
