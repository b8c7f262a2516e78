// Word-level text helpers of the delivery analysis (see lexicon.h): normalisation, fillers,
// stop words, hedge matching, repeated phrases and vocabulary diversity.
#include "speech/lexicon.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <unordered_map>

namespace speech::lexicon {
namespace {

// Kept identical to speech/hedges.txt, the copy operators edit (a unit test compares them).
constexpr std::string_view kDefaultHedges =
    R"(# Hedge phrases counted by the delivery analysis: one per line, matched case-insensitively on
# the word sequence (fillers skipped, so "i um think" counts as "i think"). Lines starting with
# '#' are comments. Keep this list and kDefaultHedges in speech/lexicon.cpp identical (a unit
# test compares them).
i think
i guess
i suppose
i believe
i feel like
i'm not sure
not sure
i would say
i mean
you know
maybe
perhaps
probably
possibly
sort of
kind of
sorta
kinda
a little bit
a bit
somewhat
more or less
in a way
it seems
seems like
hopefully
)";

// The spec's five (um, uh, er, ah, hmm) plus the spellings recognizers and people also use.
constexpr std::string_view kFillerWords[] = {"um",  "umm", "uhm", "uh", "er",
                                             "erm", "ah",  "hmm", "hm"};

constexpr std::string_view kStopWords[] = {
    "a",      "about",   "above",  "after",  "again",   "against", "all",      "am",
    "an",     "and",     "any",    "are",    "as",      "at",      "be",       "because",
    "been",   "before",  "being",  "below",  "between", "both",    "but",      "by",
    "can",    "could",   "did",    "do",     "does",    "doing",   "don't",    "down",
    "during", "each",    "few",    "for",    "from",    "further", "had",      "has",
    "have",   "having",  "he",     "he's",   "her",     "here",    "hers",     "herself",
    "him",    "himself", "his",    "how",    "i",       "i'd",     "i'll",     "i'm",
    "i've",   "if",      "in",     "into",   "is",      "it",      "it's",     "its",
    "itself", "just",    "me",     "more",   "most",    "my",      "myself",   "no",
    "nor",    "not",     "now",    "of",     "off",     "on",      "once",     "only",
    "or",     "other",   "our",    "ours",   "out",     "over",    "own",      "same",
    "she",    "should",  "so",     "some",   "such",    "than",    "that",     "that's",
    "the",    "their",   "theirs", "them",   "then",    "there",   "there's",  "these",
    "they",   "they're", "this",   "those",  "through", "to",      "too",      "under",
    "until",  "up",      "very",   "was",    "we",      "we're",   "were",     "what",
    "when",   "where",   "which",  "while",  "who",     "whom",    "why",      "will",
    "with",   "would",   "you",    "you're", "your",    "yours",   "yourself", "yourselves",
    "okay",   "ok",
};

bool is_word_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

bool is_markup(std::string_view raw) {
    const char c = raw.front();
    return c == '<' || c == '[' || c == '+';
}

// pocketsphinx writes alternate pronunciations as "word(2)".
std::string_view drop_alternate_suffix(std::string_view w) {
    if (w.size() < 3 || w.back() != ')') return w;
    const size_t open = w.rfind('(');
    return open == std::string_view::npos || open == 0 ? w : w.substr(0, open);
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\r') ++j;
        if (j > i) {
            std::string w = normalize_word(text.substr(i, j - i));
            if (!w.empty()) out.push_back(std::move(w));
        }
        i = j;
    }
    return out;
}

std::string join(const std::vector<std::string>& words, size_t from, size_t n) {
    std::string s;
    for (size_t k = from; k < from + n; ++k) {
        if (k > from) s += ' ';
        s += words[k];
    }
    return s;
}

bool matches_at(const std::vector<std::string>& words, size_t i,
                const std::vector<std::string>& phrase) {
    if (phrase.empty() || i + phrase.size() > words.size()) return false;
    return std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<std::ptrdiff_t>(i));
}

// An n-gram's running count; an occurrence overlapping the previous one is not counted, so
// "very very very" holds "very very" once.
struct GramCount {
    int count = 0;
    size_t next_free = 0;
    bool subsumed = false;
};

constexpr size_t kMinGram = 2;
constexpr size_t kMaxGram = 4;
using GramTable = std::array<std::unordered_map<std::string, GramCount>, kMaxGram + 1>;

bool only_stop_words(const std::vector<std::string>& words, size_t from, size_t n) {
    return std::all_of(words.begin() + static_cast<std::ptrdiff_t>(from),
                       words.begin() + static_cast<std::ptrdiff_t>(from + n),
                       [](const std::string& w) { return is_stop_word(w); });
}

GramTable count_grams(const std::vector<std::string>& words) {
    GramTable grams;
    for (size_t n = kMinGram; n <= kMaxGram; ++n) {
        for (size_t i = 0; i + n <= words.size(); ++i) {
            if (only_stop_words(words, i, n)) continue;
            GramCount& g = grams[n][join(words, i, n)];
            if (g.count > 0 && i < g.next_free) continue;
            ++g.count;
            g.next_free = i + n;
        }
    }
    return grams;
}

// Longest first: a repeated n-gram hides its (n-1)-word prefix and suffix when they occur no
// more often than it does; the hiding carries down to the 2-grams through the hidden ones.
void mark_subsumed(GramTable& grams) {
    for (size_t n = kMaxGram; n > kMinGram; --n) {
        for (const auto& [text, g] : grams[n]) {
            if (g.count < 2) continue;
            const std::string prefix = text.substr(0, text.rfind(' '));
            const std::string suffix = text.substr(text.find(' ') + 1);
            for (const std::string* part : {&prefix, &suffix}) {
                auto it = grams[n - 1].find(*part);
                if (it != grams[n - 1].end() && it->second.count <= g.count)
                    it->second.subsumed = true;
            }
        }
    }
}

size_t word_count_of(const std::string& phrase) {
    return 1 + static_cast<size_t>(std::count(phrase.begin(), phrase.end(), ' '));
}

double type_token_ratio(const std::vector<std::string>& words) {
    std::unordered_map<std::string_view, int> seen;
    for (const auto& w : words) ++seen[w];
    return static_cast<double>(seen.size()) / static_cast<double>(words.size());
}

}  // namespace

std::string normalize_word(std::string_view raw) {
    if (raw.empty() || is_markup(raw)) return "";
    std::string w(drop_alternate_suffix(raw));
    for (char& c : w)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    size_t b = 0, e = w.size();
    while (b < e && !is_word_char(static_cast<unsigned char>(w[b]))) ++b;
    while (e > b && !is_word_char(static_cast<unsigned char>(w[e - 1]))) --e;
    return w.substr(b, e - b);
}

bool is_filler_word(std::string_view word) {
    return std::find(std::begin(kFillerWords), std::end(kFillerWords), word) !=
           std::end(kFillerWords);
}

bool is_stop_word(std::string_view word) {
    return std::find(std::begin(kStopWords), std::end(kStopWords), word) != std::end(kStopWords);
}

std::vector<std::string> parse_phrase_list(std::string_view text) {
    std::vector<std::string> phrases;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        line = line.substr(0, line.find('#'));
        const std::vector<std::string> words = split_words(line);
        if (!words.empty()) {
            std::string phrase = join(words, 0, words.size());
            if (std::find(phrases.begin(), phrases.end(), phrase) == phrases.end())
                phrases.push_back(std::move(phrase));
        }
        pos = eol + 1;
    }
    return phrases;
}

std::string_view default_hedge_text() {
    return kDefaultHedges;
}

PhraseCounts count_phrases(const std::vector<std::string>& words,
                           const std::vector<std::string>& phrases) {
    std::vector<std::pair<std::string, std::vector<std::string>>> split;
    for (const auto& p : phrases) {
        std::vector<std::string> ws = split_words(p);
        if (!ws.empty()) split.emplace_back(join(ws, 0, ws.size()), std::move(ws));
    }
    std::stable_sort(split.begin(), split.end(), [](const auto& a, const auto& b) {
        return a.second.size() > b.second.size();
    });
    PhraseCounts out;
    size_t i = 0;
    while (i < words.size()) {
        auto hit = std::find_if(split.begin(), split.end(),
                                [&](const auto& p) { return matches_at(words, i, p.second); });
        if (hit == split.end()) {
            ++i;
            continue;
        }
        ++out.total;
        ++out.by_phrase[hit->first];
        i += hit->second.size();
    }
    return out;
}

std::vector<RepeatedPhrase> repeated_phrases(const std::vector<std::string>& words, size_t limit) {
    GramTable grams = count_grams(words);
    mark_subsumed(grams);
    std::vector<RepeatedPhrase> out;
    for (size_t n = kMinGram; n <= kMaxGram; ++n)
        for (const auto& [text, g] : grams[n])
            if (g.count >= 2 && !g.subsumed) out.push_back({text, g.count});
    std::sort(out.begin(), out.end(), [](const RepeatedPhrase& a, const RepeatedPhrase& b) {
        if (a.count != b.count) return a.count > b.count;
        const size_t na = word_count_of(a.text), nb = word_count_of(b.text);
        if (na != nb) return na > nb;
        return a.text < b.text;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
}

double unique_ratio(const std::vector<std::string>& words) {
    constexpr size_t kWindow = 50;
    if (words.empty()) return 0;
    if (words.size() <= kWindow) return type_token_ratio(words);
    // Sliding window: distinct counts updated as one word enters and one leaves.
    std::unordered_map<std::string_view, int> in_window;
    for (size_t i = 0; i < kWindow; ++i) ++in_window[words[i]];
    double sum = static_cast<double>(in_window.size());
    for (size_t i = kWindow; i < words.size(); ++i) {
        ++in_window[words[i]];
        auto out = in_window.find(words[i - kWindow]);
        if (--out->second == 0) in_window.erase(out);
        sum += static_cast<double>(in_window.size());
    }
    const double windows = static_cast<double>(words.size() - kWindow + 1);
    return sum / windows / static_cast<double>(kWindow);
}

}  // namespace speech::lexicon
