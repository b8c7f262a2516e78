// The filler lexicon and the canonical spellings of filled pauses.
#include "speech/fillers.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <pocketsphinx.h>
#include <sphinxbase/ngram_model.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "core/c_handles.h"
#include "core/temp_file.h"

using NgramModelPtr = std::unique_ptr<ngram_model_t, core::CDeleter<ngram_model_free>>;

namespace speech::fillers {

namespace {

// Weights were tuned on fillers/ (recall) against read/ + mfa_long (false fillers): see
// bench/speech/RESULTS-speech.md.
constexpr std::array<LexiconEntry, 5> kLexicon{{
    {"++uh++", "AH", "uh", 300.0f},
    {"++um++", "AH M", "um", 300.0f},
    {"++er++", "ER", "er", 30.0f},
    {"++ah++", "AA", "ah", 30.0f},
    {"++hmm++", "HH M", "hmm", 100.0f},
}};

struct Alias {
    std::string_view word;
    std::string_view canonical;
};

// Stock dictionary spellings of the same sounds.
constexpr std::array<Alias, 9> kStock{{
    {"uh", "uh"},
    {"um", "um"},
    {"umm", "um"},
    {"uhm", "um"},
    {"er", "er"},
    {"ah", "ah"},
    {"hmm", "hmm"},
    {"hm", "hmm"},
    {"mm", "hmm"},
}};

}  // namespace

std::span<const LexiconEntry> lexicon() {
    return kLexicon;
}

namespace {

double total_weight() {
    double total = 0;
    for (const auto& e : kLexicon) total += e.lm_weight;
    return total;
}

// A unigram-only ARPA model of the filler tokens, each with its share of the total weight.
std::string filler_arpa() {
    std::string arpa = "\\data\\\nngram 1=" + std::to_string(kLexicon.size()) + "\n\n\\1-grams:\n";
    const double total = total_weight();
    for (const auto& e : kLexicon) {
        char line[96];
        std::snprintf(line, sizeof line, "%.4f\t%s\n", std::log10(e.lm_weight / total), e.token);
        arpa += line;
    }
    return arpa + "\n\\end\\\n";
}

// sphinxbase reads models from files only: a temp file that is gone when this returns.
NgramModelPtr read_filler_model(cmd_ln_t* config, logmath_t* lmath) {
    core::TempFile file(std::filesystem::temp_directory_path().string());
    const std::string text = filler_arpa();
    file.write(text.data(), text.size());
    NgramModelPtr lm(ngram_model_read(config, file.path().c_str(), NGRAM_ARPA, lmath));
    if (!lm) throw std::runtime_error("pocketsphinx could not read the filler language model");
    return lm;
}

// The stock model interpolated with the filler model: the fillers get `share` of the
// probability mass in every context, split by their weights.
NgramModelPtr with_filler_words(cmd_ln_t* config, ngram_model_t* words, logmath_t* lmath) {
    NgramModelPtr fillers = read_filler_model(config, lmath);
    const double vocabulary = ngram_model_get_counts(words)[0];
    const float share = static_cast<float>(total_weight() / vocabulary);
    ngram_model_t* models[] = {words, fillers.get()};
    char words_name[] = "words";
    char fillers_name[] = "fillers";
    char* names[] = {words_name, fillers_name};
    const float weights[] = {1.0f - share, share};
    // The set holds its own references to both models.
    NgramModelPtr set(ngram_model_set_init(config, models, names, weights, 2));
    if (!set) throw std::runtime_error("pocketsphinx could not combine the language models");
    return set;
}

}  // namespace

void use_language_model(ps_decoder_t* ps, cmd_ln_t* config, const std::string& lm_path,
                        bool with_fillers, const char* search) {
    logmath_t* lmath = ps_get_logmath(ps);
    NgramModelPtr lm(ngram_model_read(config, lm_path.c_str(), NGRAM_AUTO, lmath));
    if (!lm) throw std::runtime_error("pocketsphinx could not read " + lm_path);
    if (with_fillers) {
        for (const auto& f : kLexicon) {
            if (ps_add_word(ps, f.token, f.phones, FALSE) < 0) {
                throw std::runtime_error(std::string("cannot add filler word ") + f.token);
            }
        }
        lm = with_filler_words(config, lm.get(), lmath);
    }
    // The search keeps its own reference to the model.
    if (ps_set_lm(ps, search, lm.get()) != 0 || ps_set_search(ps, search) != 0) {
        throw std::runtime_error("pocketsphinx could not build its search");
    }
}

std::optional<std::string_view> canonical(std::string_view word) {
    for (const auto& e : kLexicon) {
        if (word == e.token) return e.canonical;
    }
    for (const auto& a : kStock) {
        if (word == a.word) return a.canonical;
    }
    return std::nullopt;
}

namespace {

bool is_garbage(const std::string& t) {
    return t == "[speech]" || t == "[noise]";
}

// <s>, </s>, <sil>, [NOISE], unused lexicon tokens: no word.
bool is_non_word(const std::string& t) {
    return t.empty() || t.front() == '<' || t.front() == '[' || t.starts_with("++");
}

}  // namespace

std::optional<Kind> classify(const Rules& rules, const Decoded& d, bool detect) {
    if (const auto canon = canonical(d.token)) {
        if (d.duration_s < rules.min_word_s || d.confidence < rules.min_word_confidence) {
            return std::nullopt;
        }
        return Kind{std::string(*canon), true};
    }
    if (detect && is_garbage(d.token) && d.duration_s >= rules.min_garbage_s &&
        d.duration_s <= rules.max_garbage_s && d.confidence >= rules.min_garbage_confidence &&
        voiced_fraction(d.samples.data(), d.samples.size(), 16000) >= rules.min_voiced) {
        return Kind{"uh", true};
    }
    if (is_non_word(d.token)) return std::nullopt;
    return Kind{d.token, false};
}

void merge_adjacent(std::vector<Word>& words) {
    constexpr double kTouching = 0.035;
    std::vector<Word> out;
    for (auto& w : words) {
        if (w.filler && !out.empty() && out.back().filler &&
            w.start_s - out.back().end_s <= kTouching) {
            Word& prev = out.back();
            // The longer part names the filler ("uh" + long "um" is an "um").
            if (w.end_s - w.start_s > prev.end_s - prev.start_s) prev.word = w.word;
            prev.end_s = w.end_s;
            prev.confidence = std::max(prev.confidence, w.confidence);
            continue;
        }
        out.push_back(std::move(w));
    }
    words = std::move(out);
}

}  // namespace speech::fillers

namespace speech::fillers {

// Share of 10 ms frames whose normalised autocorrelation peaks above 0.5 at a pitch lag
// (60-400 Hz): the mark of a voiced sound. Breaths, clicks and noise bursts stay low.
double voiced_fraction(const int16_t* s, size_t n, int rate) {
    const size_t hop = static_cast<size_t>(rate) / 100;
    const size_t win = static_cast<size_t>(rate) * 30 / 1000;
    const size_t min_lag = static_cast<size_t>(rate) / 400;
    const size_t max_lag = static_cast<size_t>(rate) / 60;
    size_t frames = 0, voiced = 0;
    for (size_t at = 0; at + win + max_lag <= n; at += hop) {
        ++frames;
        double e0 = 0;
        for (size_t i = 0; i < win; ++i) e0 += static_cast<double>(s[at + i]) * s[at + i];
        if (e0 <= 0) continue;
        double best = 0;
        for (size_t lag = min_lag; lag <= max_lag; ++lag) {
            double xy = 0, e1 = 0;
            for (size_t i = 0; i < win; ++i) {
                const double b = s[at + i + lag];
                xy += static_cast<double>(s[at + i]) * b;
                e1 += b * b;
            }
            if (e1 > 0) best = std::max(best, xy / std::sqrt(e0 * e1));
        }
        if (best >= 0.5) ++voiced;
    }
    return frames ? static_cast<double>(voiced) / static_cast<double>(frames) : 0.0;
}

}  // namespace speech::fillers
