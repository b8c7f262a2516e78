// Filled pauses ("um", "uh", ...): the decoder lexicon that lets pocketsphinx find them and the
// rules that turn decoded tokens into canonical fillers (private to speech/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "speech/transcript.h"

struct ps_decoder_s;  // pocketsphinx's ps_decoder_t
struct cmd_ln_s;      // sphinxbase's cmd_ln_t

namespace speech::fillers {

// A word added to the decoder's dictionary and language model. Its token is not an English
// word, so it never collides with the stock "uh"/"um" entries (which the stock model makes
// too unlikely to ever win).
struct LexiconEntry {
    const char* token;      // what the decoder outputs
    const char* phones;     // pronunciation in the en-us phone set
    const char* canonical;  // spelling in the transcript
    float lm_weight;        // unigram probability = lm_weight / vocabulary size
};

std::span<const LexiconEntry> lexicon();

// Makes the word language model at lm_path the decoder's search `search` (and selects it).
// With `with_fillers` the lexicon's words join the dictionary and the model. The stock binary
// trie LM is never changed: ngram_model_add_word on it corrupts lm_trie_score (a segfault in
// bitarr_read_int25 as soon as a filler is in the history). Instead the stock LM is
// interpolated (ngram_model_set) with a unigram LM holding only the filler words, so that
// P(filler | history) = lm_weight / vocabulary size and every other word keeps its own n-gram
// probability times (1 - the fillers' share). Call it before any other search exists: a
// dictionary word added while an n-gram search exists is pushed into its LM.
void use_language_model(ps_decoder_s* ps, cmd_ln_s* config, const std::string& lm_path,
                        bool with_fillers, const char* search);

// The canonical spelling (um, uh, er, ah, hmm) if a decoded word, already lower case and
// without its "(2)" variant mark, is a filler: ours or one of the stock dictionary's.
std::optional<std::string_view> canonical(std::string_view word);

// One segment of the decoder's best path.
struct Decoded {
    std::string token;  // lower case, without its "(2)" variant mark
    double duration_s = 0;
    double confidence = 0;
    std::span<const int16_t> samples;  // its audio, for the voicing check
};

struct Rules {
    // Fillers the decoder spelled out (ours or the stock dictionary's): the short ones are
    // mostly pieces of words.
    double min_word_s = 0.15;
    double min_word_confidence = 0.0;
    // The decoder's garbage models ([SPEECH], [NOISE]) swallow most filled pauses, which the
    // acoustic model fits poorly: a voiced, confident garbage segment of filler length is
    // taken as one. Longer ones are held words (the mfa_long trap), unvoiced ones breaths.
    double min_garbage_s = 0.18;
    double max_garbage_s = 2.0;
    double min_garbage_confidence = 0.5;
    double min_voiced = 0.6;
};

struct Kind {
    std::string spelling;
    bool filler = false;
};

// What a decoded segment becomes: a word, a filler, or nothing (silence, noise, a rejected
// filler). With detection off, the stock filler words still come out marked as fillers.
std::optional<Kind> classify(const Rules& rules, const Decoded& d, bool detect);

// Adjacent fillers (the decoder cuts one long filled pause into several) become one.
void merge_adjacent(std::vector<Word>& words);

// Share of the 10 ms frames of these samples that are voiced (periodic at a pitch lag).
double voiced_fraction(const int16_t* samples, size_t n, int sample_rate);

}  // namespace speech::fillers
