// The clinical note draft: sentences from pauses, TextRank summary, SOAP placement by cues.
#include "speech/clinical_note.h"

#include <libstemmer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>

namespace speech {
namespace {

// ---- words ----------------------------------------------------------------------------------

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
            continue;
        }
        cur += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

// "i", "i'm", "i've", "i'll", "i'd" are written with a capital, as a note would.
std::string display_word(const std::string& w) {
    if (w == "i" || w.rfind("i'", 0) == 0) return "I" + w.substr(1);
    return w;
}

// ---- sentences ------------------------------------------------------------------------------

struct Span {
    size_t begin, end;  // indices into the kept words, end exclusive
};

// Cuts [begin, end) at its longest inner pause until every piece is at most kMaxSentenceWords.
void cut_long(const std::vector<const Word*>& w, Span s, std::vector<Span>& out) {
    if (s.end - s.begin <= kMaxSentenceWords) {
        out.push_back(s);
        return;
    }
    size_t at = s.begin + 1;
    double widest = -1;
    for (size_t i = s.begin + 1; i < s.end; ++i) {
        double gap = w[i]->start_s - w[i - 1]->end_s;
        if (gap > widest) widest = gap, at = i;
    }
    cut_long(w, {s.begin, at}, out);
    cut_long(w, {at, s.end}, out);
}

Sentence sentence_of(const std::vector<const Word*>& w, Span s) {
    Sentence out;
    out.start_s = w[s.begin]->start_s;
    out.end_s = w[s.end - 1]->end_s;
    for (size_t i = s.begin; i < s.end; ++i) {
        if (i > s.begin) out.text += ' ';
        out.text += display_word(w[i]->word);
    }
    return out;
}

// ---- stemming and the stop-list -------------------------------------------------------------

struct StemmerDeleter {
    void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using Stemmer = std::unique_ptr<sb_stemmer, StemmerDeleter>;

Stemmer english_stemmer() {
    Stemmer s(sb_stemmer_new("english", "UTF_8"));
    if (!s) throw std::runtime_error("libstemmer: no English stemmer");
    return s;
}

std::string stem(sb_stemmer* st, const std::string& w) {
    const sb_symbol* out = sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(w.data()),
                                           static_cast<int>(w.size()));
    if (!out) throw std::bad_alloc();
    return std::string(reinterpret_cast<const char*>(out),
                       static_cast<size_t>(sb_stemmer_length(st)));
}

// Function words, and the conversational words of a consultation that say nothing about its
// content ("okay", "doctor", "today"): they would make every sentence look alike to TextRank.
// Negations stay out of the list's effect on placement (cues read raw words), only the summary
// ignores them.
const std::set<std::string, std::less<>>& stop_words() {
    static const std::set<std::string, std::less<>> kStop = {
        "a",       "about",     "after",    "again",  "all",    "also",    "am",      "an",
        "and",     "any",       "are",      "as",     "at",     "be",      "because", "been",
        "before",  "being",     "both",     "but",    "by",     "can",     "could",   "did",
        "do",      "does",      "doing",    "don't",  "down",   "each",    "for",     "from",
        "get",     "got",       "had",      "has",    "have",   "having",  "he",      "her",
        "here",    "him",       "his",      "how",    "i",      "i'd",     "i'll",    "i'm",
        "i've",    "if",        "in",       "into",   "is",     "it",      "it's",    "its",
        "just",    "let's",     "me",       "more",   "my",     "no",      "not",     "now",
        "of",      "off",       "on",       "once",   "only",   "or",      "other",   "our",
        "out",     "over",      "own",      "really", "same",   "she",     "should",  "so",
        "some",    "such",      "than",     "that",   "that's", "the",     "their",   "them",
        "then",    "there",     "these",    "they",   "this",   "those",   "through", "to",
        "too",     "under",     "up",       "very",   "was",    "we",      "we'll",   "we're",
        "were",    "what",      "when",     "where",  "which",  "while",   "who",     "why",
        "will",    "with",      "would",    "you",    "you're", "your",    "yes",     "yeah",
        "okay",    "ok",        "right",    "well",   "like",   "know",    "think",   "mean",
        "see",     "said",      "say",      "go",     "going",  "thing",   "things",  "lot",
        "kind",    "sort",      "actually", "maybe",  "thank",  "thanks",  "please",  "good",
        "morning", "afternoon", "hello",    "hi",     "doctor", "today",   "come",    "let",
        "look",    "little",    "bit",      "one",    "two",    "mm",      "hmm",     "um",
        "uh",      "er",        "ah",       "oh",     "sure",   "alright", "great",   "fine",
        "much",    "many"};
    return kStop;
}

// ---- SOAP cues ------------------------------------------------------------------------------

// A cue: a phrase of whole words (a trailing '*' on a word matches any word it begins:
// "prescrib*" for prescribe, prescribed, prescription) and its weight. The speech acts that
// name a section outright ("I think", "we will") weigh 3; a clinical word that usually belongs
// there ("cough", "tender") weighs 1 or 2, so that "I think the cough is viral" is an
// assessment and "the cough started on Monday" is history.
struct Cue {
    Section section;
    const char* phrase;
    int weight;
};

// clang-format off
constexpr Cue kCues[] = {
    // Subjective: what the patient reports, symptoms and history.
    {Section::subjective, "i have", 1}, {Section::subjective, "i've been", 1},
    {Section::subjective, "i've had", 2}, {Section::subjective, "i had", 1},
    {Section::subjective, "i feel", 2}, {Section::subjective, "feeling", 1},
    {Section::subjective, "i get", 1}, {Section::subjective, "complain*", 2},
    {Section::subjective, "history of", 3}, {Section::subjective, "started", 1},
    {Section::subjective, "since", 1}, {Section::subjective, "allerg*", 2},
    {Section::subjective, "smok*", 1}, {Section::subjective, "drink*", 1},
    {Section::subjective, "pain*", 1}, {Section::subjective, "hurt*", 1},
    {Section::subjective, "ache*", 1}, {Section::subjective, "headache*", 1},
    {Section::subjective, "cough*", 1}, {Section::subjective, "fever*", 1},
    {Section::subjective, "nause*", 1}, {Section::subjective, "vomit*", 1},
    {Section::subjective, "dizz*", 1}, {Section::subjective, "tired", 1},
    {Section::subjective, "fatigue*", 1}, {Section::subjective, "sore", 1},
    {Section::subjective, "shortness of breath", 2}, {Section::subjective, "itch*", 1},
    {Section::subjective, "bleed*", 1}, {Section::subjective, "worse", 1},
    {Section::subjective, "sleep*", 1}, {Section::subjective, "symptom*", 1},
    {Section::subjective, "chills", 1}, {Section::subjective, "diarrh*", 1},
    {Section::subjective, "currently taking", 2}, {Section::subjective, "my mother", 1},
    {Section::subjective, "my father", 1}, {Section::subjective, "family", 1},
    // Objective: examination, vitals, measurements, results.
    {Section::objective, "blood pressure", 2}, {Section::objective, "heart rate", 2},
    {Section::objective, "pulse", 2}, {Section::objective, "temperature", 2},
    {Section::objective, "oxygen", 2}, {Section::objective, "saturation*", 2},
    {Section::objective, "respiratory rate", 2}, {Section::objective, "weight", 1},
    {Section::objective, "weigh*", 1}, {Section::objective, "height", 1},
    {Section::objective, "bmi", 2}, {Section::objective, "exam*", 2},
    {Section::objective, "on examination", 3}, {Section::objective, "auscultat*", 2},
    {Section::objective, "lungs", 1}, {Section::objective, "clear", 1},
    {Section::objective, "tender*", 2}, {Section::objective, "swelling", 1},
    {Section::objective, "swollen", 1}, {Section::objective, "rash", 1},
    {Section::objective, "reflex*", 2}, {Section::objective, "abdomen", 1},
    {Section::objective, "soft", 1}, {Section::objective, "murmur*", 2},
    {Section::objective, "results", 2}, {Section::objective, "x-ray", 2},
    {Section::objective, "x ray", 2}, {Section::objective, "scan", 1},
    {Section::objective, "blood test*", 2}, {Section::objective, "glucose", 2},
    {Section::objective, "level*", 1}, {Section::objective, "normal", 1},
    {Section::objective, "measur*", 2}, {Section::objective, "reading*", 1},
    {Section::objective, "throat is", 2}, {Section::objective, "looks red", 2},
    // Assessment: the clinician's judgement.
    {Section::assessment, "i think", 3}, {Section::assessment, "likely", 3},
    {Section::assessment, "probably", 3}, {Section::assessment, "diagnos*", 3},
    {Section::assessment, "consistent with", 3}, {Section::assessment, "looks like", 2},
    {Section::assessment, "suggest*", 2}, {Section::assessment, "suspect*", 3},
    {Section::assessment, "impression", 3}, {Section::assessment, "rule out", 2},
    {Section::assessment, "differential", 3}, {Section::assessment, "in keeping with", 3},
    {Section::assessment, "viral", 1}, {Section::assessment, "bacterial", 1},
    {Section::assessment, "infection", 1}, {Section::assessment, "hypertension", 1},
    {Section::assessment, "diabetes", 1}, {Section::assessment, "asthma", 1},
    {Section::assessment, "migraine", 1}, {Section::assessment, "sprain*", 1},
    {Section::assessment, "bronchitis", 1}, {Section::assessment, "pneumonia", 1},
    {Section::assessment, "strep", 1}, {Section::assessment, "tonsillitis", 1},
    {Section::assessment, "gastritis", 1}, {Section::assessment, "sinusitis", 1},
    // Plan: what happens next.
    {Section::plan, "we will", 3}, {Section::plan, "we'll", 3}, {Section::plan, "i will", 3},
    {Section::plan, "i'll", 3}, {Section::plan, "i'm going to", 3},
    {Section::plan, "we're going to", 3}, {Section::plan, "start", 2},
    {Section::plan, "prescrib*", 3}, {Section::plan, "refer*", 3}, {Section::plan, "follow up", 3},
    {Section::plan, "follow-up", 3}, {Section::plan, "come back", 3}, {Section::plan, "return", 2},
    {Section::plan, "schedule*", 2}, {Section::plan, "book", 2}, {Section::plan, "order", 2},
    {Section::plan, "continue", 2}, {Section::plan, "stop taking", 3},
    {Section::plan, "times a day", 2}, {Section::plan, "twice a day", 2},
    {Section::plan, "once a day", 2}, {Section::plan, "recheck", 3}, {Section::plan, "see you", 2},
    {Section::plan, "you should", 2}, {Section::plan, "make sure", 1}, {Section::plan, "rest", 1},
    {Section::plan, "fluids", 1}, {Section::plan, "plan", 3},
};
// clang-format on

// Number words as the recogniser spells them ("one hundred twenty"), and digits.
bool is_number_word(const std::string& w) {
    static const std::set<std::string, std::less<>> kNumbers = {
        "zero",     "one",      "two",     "three",     "four",     "five",     "six",
        "seven",    "eight",    "nine",    "ten",       "eleven",   "twelve",   "thirteen",
        "fourteen", "fifteen",  "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
        "thirty",   "forty",    "fifty",   "sixty",     "seventy",  "eighty",   "ninety",
        "hundred",  "thousand", "point",   "half"};
    if (kNumbers.count(w)) return true;
    return !w.empty() && std::all_of(w.begin(), w.end(),
                                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// Units of a measurement (a number before one is a finding: objective) and of a duration (a
// number before one is usually history: "for three days").
bool is_measure_unit(const std::string& w) {
    static const std::set<std::string, std::less<>> kUnits = {
        "degrees",     "degree",      "celsius",     "fahrenheit", "percent", "kilograms",
        "kilos",       "kilogram",    "kg",          "pounds",     "grams",   "centimetres",
        "centimeters", "millimetres", "millimeters", "millimoles", "mmol",    "beats",
        "breaths",     "bpm",         "over",        "milligrams", "mg",      "litres",
        "liters",      "millilitres", "milliliters"};
    return kUnits.count(w) > 0;
}
bool is_duration_unit(const std::string& w) {
    static const std::set<std::string, std::less<>> kUnits = {
        "day", "days", "week", "weeks", "month", "months", "year", "years", "hours"};
    return kUnits.count(w) > 0;
}

bool word_matches(const std::string& pattern, const std::string& word) {
    if (!pattern.empty() && pattern.back() == '*')
        return word.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return pattern == word;
}

bool phrase_at(const std::vector<std::string>& pat, const std::vector<std::string>& w, size_t i) {
    if (i + pat.size() > w.size()) return false;
    for (size_t k = 0; k < pat.size(); ++k)
        if (!word_matches(pat[k], w[i + k])) return false;
    return true;
}

// The cue phrases split into words once, in kCues' order.
const std::vector<std::vector<std::string>>& cue_patterns() {
    static const std::vector<std::vector<std::string>> kPatterns = [] {
        std::vector<std::vector<std::string>> out;
        for (const Cue& c : kCues) out.push_back(split_words(c.phrase));
        return out;
    }();
    return kPatterns;
}

bool contains_phrase(const std::vector<std::string>& words, const std::vector<std::string>& pat) {
    for (size_t i = 0; i < words.size(); ++i)
        if (phrase_at(pat, words, i)) return true;
    return false;
}

// "one hundred twenty over eighty", "thirty eight point five degrees": a number run followed
// by a unit. Each measurement counts 2 for objective; a duration 1 for subjective.
void number_cues(const std::vector<std::string>& w, int* weight, Placement& why) {
    for (size_t i = 1; i < w.size(); ++i) {
        if (!is_number_word(w[i - 1])) continue;
        if (is_measure_unit(w[i])) {
            weight[static_cast<int>(Section::objective)] += 2;
            why.cues.push_back("objective: " + w[i - 1] + " " + w[i]);
        } else if (is_duration_unit(w[i])) {
            weight[static_cast<int>(Section::subjective)] += 1;
            why.cues.push_back("subjective: " + w[i - 1] + " " + w[i]);
        }
    }
}

void append_sentence(std::string& out, const std::string& text) {
    if (text.empty()) return;
    if (!out.empty()) out += ' ';
    std::string s = text;
    if (s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    out += s;
    out += '.';
}

// How many sentences the summary keeps: about a fifth, at least 1, at most 5.
size_t summary_size(size_t eligible) {
    return std::clamp<size_t>((eligible + 4) / 5, eligible ? 1 : 0, 5);
}

// A sentence needs this many content words to be summary material ("okay thank you" is not).
constexpr size_t kMinSummaryStems = 3;

std::string summarise(const std::vector<Sentence>& sentences, const std::vector<double>& scores,
                      const std::vector<std::vector<std::string>>& stems) {
    std::vector<size_t> eligible;
    for (size_t i = 0; i < sentences.size(); ++i)
        if (stems[i].size() >= kMinSummaryStems) eligible.push_back(i);
    if (eligible.empty()) {  // a short recording: its longest sentence says the most
        size_t best = 0;
        for (size_t i = 0; i < stems.size(); ++i)
            if (stems[i].size() > stems[best].size()) best = i;
        if (stems.empty() || stems[best].empty()) return {};
        eligible.push_back(best);
    }
    std::stable_sort(eligible.begin(), eligible.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    eligible.resize(summary_size(eligible.size()));
    std::sort(eligible.begin(), eligible.end());  // in the order they were said
    std::string out;
    for (size_t i : eligible) append_sentence(out, sentences[i].text);
    return out;
}

}  // namespace

std::vector<Sentence> rebuild_sentences(const std::vector<Word>& words, double gap_s) {
    std::vector<const Word*> kept;
    for (const Word& w : words)
        if (!w.filler && !w.word.empty()) kept.push_back(&w);
    std::vector<Span> spans;
    size_t begin = 0;
    for (size_t i = 1; i <= kept.size(); ++i) {
        if (i < kept.size() && kept[i]->start_s - kept[i - 1]->end_s < gap_s) continue;
        if (i > begin) cut_long(kept, {begin, i}, spans);
        begin = i;
    }
    std::vector<Sentence> out;
    out.reserve(spans.size());
    for (Span s : spans) out.push_back(sentence_of(kept, s));
    return out;
}

const char* section_name(Section s) {
    switch (s) {
        case Section::subjective:
            return "subjective";
        case Section::objective:
            return "objective";
        case Section::assessment:
            return "assessment";
        case Section::plan:
            return "plan";
        case Section::none:
            break;
    }
    return "none";
}

Placement classify_sentence(std::string_view text) {
    const std::vector<std::string> w = split_words(text);
    int weight[4] = {0, 0, 0, 0};
    Placement why;
    for (size_t k = 0; k < std::size(kCues); ++k) {
        const Cue& c = kCues[k];
        if (!contains_phrase(w, cue_patterns()[k])) continue;
        weight[static_cast<int>(c.section)] += c.weight;
        why.cues.push_back(std::string(section_name(c.section)) + ": " + c.phrase);
    }
    number_cues(w, weight, why);
    // The highest weight wins; a tie goes to the later section (plan, then assessment, then
    // objective): the explicit speech acts are rarer and more telling than a symptom word.
    int best = -1;
    for (int s = 0; s < 4; ++s)
        if (weight[s] > 0 && (best < 0 || weight[s] >= weight[best])) best = s;
    if (best >= 0) why.section = static_cast<Section>(best);
    return why;
}

namespace {
std::vector<std::string> stems_of(sb_stemmer* st, std::string_view text) {
    std::vector<std::string> out;
    for (const std::string& w : split_words(text)) {
        if (stop_words().count(w) || is_number_word(w)) continue;
        out.push_back(stem(st, w));
    }
    return out;
}
}  // namespace

std::vector<std::string> content_stems(std::string_view text) {
    return stems_of(english_stemmer().get(), text);
}

// TextRank (Mihalcea & Tarau 2004): sentences are nodes, an edge weighs the stems two share
// over log|Si| + log|Sj| (so long sentences do not win by length alone), and PageRank with
// damping 0.85 runs until the scores move less than 1e-6 (or 100 rounds).
std::vector<double> textrank(const std::vector<std::vector<std::string>>& stems) {
    const size_t n = stems.size();
    std::vector<std::set<std::string>> sets(n);
    for (size_t i = 0; i < n; ++i) sets[i] = {stems[i].begin(), stems[i].end()};
    // Adjacency lists: a long consultation has thousands of sentences, few of them linked.
    std::vector<std::vector<std::pair<size_t, double>>> in_edges(n);
    std::vector<double> out_weight(n, 0);
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = i + 1; j < n; ++j) {
            if (sets[i].size() < 2 || sets[j].size() < 2) continue;  // log 1 = 0: no edge
            size_t shared = 0;
            for (const auto& s : sets[i]) shared += sets[j].count(s);
            if (!shared) continue;
            double v =
                static_cast<double>(shared) / (std::log(static_cast<double>(sets[i].size())) +
                                               std::log(static_cast<double>(sets[j].size())));
            in_edges[i].push_back({j, v});
            in_edges[j].push_back({i, v});
            out_weight[i] += v;
            out_weight[j] += v;
        }
    }
    constexpr double kDamping = 0.85;
    std::vector<double> score(n, 1.0), next(n);
    for (int round = 0; round < 100; ++round) {
        double moved = 0;
        for (size_t i = 0; i < n; ++i) {
            double in = 0;
            for (auto [j, v] : in_edges[i]) in += v / out_weight[j] * score[j];
            next[i] = (1 - kDamping) + kDamping * in;
            moved = std::max(moved, std::fabs(next[i] - score[i]));
        }
        score.swap(next);
        if (moved < 1e-6) break;
    }
    for (size_t i = 0; i < n; ++i)
        if (stems[i].empty()) score[i] = 0;
    return score;
}

ClinicalNote draft_clinical_note(const std::vector<Word>& words) {
    ClinicalNote note;
    note.sentences = rebuild_sentences(words);
    std::vector<std::vector<std::string>> stems;
    stems.reserve(note.sentences.size());
    Stemmer st = english_stemmer();  // one per draft: a stemmer is not shared between threads
    for (const Sentence& s : note.sentences) {
        stems.push_back(stems_of(st.get(), s.text));
        note.placements.push_back(classify_sentence(s.text));
    }
    note.scores = textrank(stems);
    note.summary = summarise(note.sentences, note.scores, stems);
    for (size_t i = 0; i < note.sentences.size(); ++i) {
        std::string* to = nullptr;
        switch (note.placements[i].section) {
            case Section::subjective:
                to = &note.subjective;
                break;
            case Section::objective:
                to = &note.objective;
                break;
            case Section::assessment:
                to = &note.assessment;
                break;
            case Section::plan:
                to = &note.plan;
                break;
            case Section::none:
                break;
        }
        if (to) append_sentence(*to, note.sentences[i].text);
    }
    return note;
}

}  // namespace speech
