// The rules of docs/analysis.md "Interview feedback": every threshold and weight lives in the
// constants below so that the docs and the code can be compared line by line.
#include "speech/interview_feedback.h"

#include <libstemmer.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "core/json.h"
#include "speech/lexicon.h"
#include "speech/scoring.h"
#include "speech/speller.h"

namespace speech::interview {

namespace {

// ---- thresholds and weights (docs/analysis.md "Interview feedback") ----------------------

// Words an answer should reach at each difficulty (about 30, 45 and 60 s spoken at 120 wpm);
// under half of it the answer is "too short".
int target_words(std::string_view difficulty) {
    if (difficulty == "easy") return 60;
    if (difficulty == "hard") return 120;
    return 90;  // medium, and anything unknown
}
constexpr double kStarSituation = 20, kStarTask = 20, kStarAction = 30, kStarResult = 30;
constexpr double kLongPauseS = 1.0;     // a pause after a dangling word: an unfinished sentence
constexpr double kStretchBreakS = 0.3;  // voice: a pause this long ends a stretch of speech
constexpr int kRunOnWords = 40;         // a stretch longer than this is a run-on
constexpr int kGrammarPenalty = 10;     // points per grammar or wording issue
constexpr int kHedgingFollowUp = 3;     // hedges in one answer that call for a follow-up
constexpr double kTypedWpm = 150;       // typed fillers per minute as if read at this pace
constexpr size_t kMaxRepeatIssues = 3, kMaxUnfinishedIssues = 3, kMaxWeakIssues = 4,
                 kMaxRunOnIssues = 2, kMaxSpellingIssues = 5, kMaxSuggested = 3;

// ---- words ---------------------------------------------------------------------------------

struct Tok {
    std::string norm;  // lower case, no surrounding punctuation
    std::string raw;   // as written (typed) or recognised (voice)
    double start_s = -1, end_s = -1;
    bool filler = false;
    bool stop_after = false;  // typed: a sentence ends after it (. ! ? ; or a line break)
};

bool is_word_byte(unsigned char c) {
    return std::isalnum(c) || c >= 0x80;
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Words of a text: letters, digits and UTF-8 runs; an apostrophe inside a word stays ("don't"),
// "2.5", "1,000", "30%" and "$40" are one token each. Everything else separates words, so
// "a/b test" reads as "a b test" both in answers and in key point terms.
std::vector<Tok> split_text(std::string_view text) {
    std::vector<Tok> out;
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (!is_word_byte(c) && c != '$') {
            if ((c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') && !out.empty())
                out.back().stop_after = true;
            ++i;
            continue;
        }
        size_t j = i + 1;
        while (j < n) {
            const auto d = static_cast<unsigned char>(text[j]);
            const bool inner = j + 1 < n;
            if (is_word_byte(d)) {
                ++j;
            } else if (d == '\'' && inner &&
                       std::isalpha(static_cast<unsigned char>(text[j + 1])) &&
                       std::isalpha(static_cast<unsigned char>(text[j - 1]))) {
                j += 2;
            } else if ((d == '.' || d == ',') && inner && is_digit(text[j - 1]) &&
                       is_digit(text[j + 1])) {
                j += 2;
            } else if (d == '%' && is_digit(text[j - 1])) {
                ++j;
                break;
            } else {
                break;
            }
        }
        Tok t;
        t.raw = std::string(text.substr(i, j - i));
        t.norm = lower(t.raw);
        if (t.norm == "$") {  // a lone dollar sign is no word
            i = j;
            continue;
        }
        t.filler = lexicon::is_filler_word(t.norm);
        out.push_back(std::move(t));
        i = j;
    }
    return out;
}

std::vector<Tok> tokens_of(const Answer& a) {
    if (a.typed()) return split_text(a.text);
    std::vector<Tok> out;
    for (const Word& w : a.transcript->words) {
        std::string norm = lexicon::normalize_word(w.word);
        if (norm.empty()) continue;
        // Recognisers of other engines may glue punctuation or case on: split like typed text.
        std::vector<Tok> parts = split_text(norm);
        for (Tok& t : parts) {
            t.start_s = w.start_s;
            t.end_s = w.end_s;
            t.filler = t.filler || w.filler;
            t.stop_after = false;
            out.push_back(std::move(t));
        }
    }
    return out;
}

std::vector<const Tok*> content(const std::vector<Tok>& toks) {
    std::vector<const Tok*> out;
    for (const Tok& t : toks)
        if (!t.filler) out.push_back(&t);
    return out;
}

// ---- stems and synonyms ----------------------------------------------------------------------

struct StemmerDeleter {
    void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

// One stemmer per thread: a sb_stemmer keeps its work buffer inside.
std::string stem(const std::string& w) {
    thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> st(sb_stemmer_new("english", "UTF_8"));
    if (!st) throw std::runtime_error("libstemmer: no English stemmer");
    if (w.empty() || w.size() > 200 || std::any_of(w.begin(), w.end(), is_digit)) return w;
    const sb_symbol* out = sb_stemmer_stem(st.get(), reinterpret_cast<const sb_symbol*>(w.data()),
                                           static_cast<int>(w.size()));
    if (!out) throw std::bad_alloc();
    return std::string(reinterpret_cast<const char*>(out),
                       static_cast<size_t>(sb_stemmer_length(st.get())));
}

std::vector<std::string> stems_of(std::string_view text) {
    std::vector<std::string> out;
    for (const Tok& t : split_text(text))
        if (!t.filler) out.push_back(stem(t.norm));
    return out;
}

// Words that stand for each other in key point matching, British and American spellings
// included. Small on purpose: a wrong synonym credits a point the answer did not make.
const std::unordered_map<std::string, int>& synonym_groups() {
    static const std::unordered_map<std::string, int> kGroups = [] {
        const std::vector<std::vector<const char*>> groups = {
            {"measure", "metric", "kpi", "quantify"},
            {"customer", "client"},
            {"colleague", "coworker", "teammate", "peer"},
            {"manager", "boss", "supervisor"},
            {"increase", "boost", "raise", "grow"},
            {"reduce", "decrease", "lower", "cut"},
            {"fix", "resolve", "solve"},
            {"bug", "defect"},
            {"conflict", "disagreement", "dispute", "disagree"},
            {"prioritise", "prioritize", "priority"},
            {"organise", "organize"},
            {"analyse", "analyze", "analysis"},
            {"learn", "learnt", "lesson"},
            {"mistake", "error", "failure", "fail"},
            {"test", "experiment"},
            {"behaviour", "behavior"},
        };
        std::unordered_map<std::string, int> m;
        for (size_t g = 0; g < groups.size(); ++g)
            for (const char* w : groups[g]) m.emplace(stem(w), static_cast<int>(g));
        return m;
    }();
    return kGroups;
}

bool same_word(const std::string& a, const std::string& b) {
    if (a == b) return true;
    const auto& g = synonym_groups();
    const auto ia = g.find(a), ib = g.find(b);
    return ia != g.end() && ib != g.end() && ia->second == ib->second;
}

bool has_phrase(const std::vector<std::string>& seq, const std::vector<std::string>& phrase,
                bool synonyms) {
    if (phrase.empty() || phrase.size() > seq.size()) return false;
    for (size_t i = 0; i + phrase.size() <= seq.size(); ++i) {
        size_t k = 0;
        while (k < phrase.size() &&
               (synonyms ? same_word(seq[i + k], phrase[k]) : seq[i + k] == phrase[k]))
            ++k;
        if (k == phrase.size()) return true;
    }
    return false;
}

// ---- STAR cues -----------------------------------------------------------------------------

struct Cues {
    std::vector<std::vector<std::string>> situation, task, result;
};

const Cues& star_cues() {
    static const Cues kCues = [] {
        auto stemmed = [](std::initializer_list<const char*> list) {
            std::vector<std::vector<std::string>> out;
            for (const char* p : list) out.push_back(stems_of(p));
            return out;
        };
        Cues c;
        c.situation =
            stemmed({"when i was",       "when we were", "at my previous", "at my last",
                     "in my previous",   "in my last",   "in my current",  "at my current",
                     "last year",        "last month",   "last quarter",   "ago",
                     "at the time",      "situation",    "background",     "context",
                     "there was a time", "one time",     "once",           "i was working",
                     "we were working",  "i worked at",  "i worked on",    "on a project",
                     "the project",      "our team",     "the company",    "a client",
                     "a customer"});
        c.task = stemmed({"my task",         "the task",          "my role",
                          "my job was",      "my responsibility", "responsible for",
                          "in charge of",    "needed to",         "had to",
                          "was asked",       "asked me to",       "supposed to",
                          "the goal",        "our goal",          "my goal",
                          "objective",       "the aim",           "the challenge",
                          "the problem was", "the issue was",     "the target",
                          "deadline"});
        c.result = stemmed({"result",
                            "outcome",
                            "in the end",
                            "eventually",
                            "ended up",
                            "led to",
                            "which meant",
                            "that meant",
                            "saved",
                            "increase",
                            "reduce",
                            "improve",
                            "grew",
                            "delivered",
                            "launched",
                            "shipped",
                            "achieve",
                            "won",
                            "succeeded",
                            "success",
                            "on time",
                            "under budget",
                            "ahead of schedule",
                            "learned",
                            "learnt",
                            "lesson",
                            "promoted",
                            "fewer",
                            "faster",
                            "percent",
                            "per cent"});
        return c;
    }();
    return kCues;
}

bool any_cue(const std::vector<std::string>& stems,
             const std::vector<std::vector<std::string>>& cues) {
    return std::any_of(cues.begin(), cues.end(),
                       [&](const auto& c) { return has_phrase(stems, c, false); });
}

bool is_year(const std::string& w) {
    return w.size() == 4 && std::all_of(w.begin(), w.end(), is_digit) &&
           (w[0] == '1' || w[0] == '2') &&
           (w.compare(0, 2, "19") == 0 || w.compare(0, 2, "20") == 0);
}

// A figure: digits (not a year), a percentage, or a number word ("one" is left out: "one day").
bool is_number(const std::string& w) {
    static const std::set<std::string, std::less<>> kWords = {
        "two",   "three",   "four",    "five",    "six",     "seven",    "eight",   "nine",
        "ten",   "eleven",  "twelve",  "fifteen", "twenty",  "thirty",   "forty",   "fifty",
        "sixty", "seventy", "eighty",  "ninety",  "hundred", "thousand", "million", "billion",
        "half",  "double",  "doubled", "tripled", "twice",   "percent"};
    if (w.empty()) return false;
    if (std::any_of(w.begin(), w.end(), is_digit)) return !is_year(w);
    return kWords.count(w) > 0;
}

// Past-tense verbs that are states or wishes, not actions ("i needed", "i wanted").
bool is_action_verb(const std::string& w) {
    static const std::set<std::string, std::less<>> kNotActions = {
        "needed", "wanted",   "used",    "seemed",   "liked",   "loved",   "hoped",
        "wished", "supposed", "guessed", "believed", "assumed", "worried", "waited"};
    static const std::set<std::string, std::less<>> kIrregular = {
        "built",  "wrote",   "made",  "led",   "met",     "spoke",   "took",    "ran",   "set",
        "began",  "brought", "found", "gave",  "sent",    "got",     "did",     "chose", "told",
        "taught", "went",    "held",  "kept",  "put",     "sought",  "drew",    "drove", "fought",
        "caught", "paid",    "sold",  "split", "spent",   "rewrote", "rebuilt", "broke", "bought",
        "hired",  "sat",     "stood", "dealt", "swapped", "rolled"};
    if (kNotActions.count(w)) return false;
    if (kIrregular.count(w)) return true;
    return w.size() > 3 && w.compare(w.size() - 2, 2, "ed") == 0;
}

// "I" or "we" then, within two words ("i then quickly called"), a verb in the past tense.
bool has_action(const std::vector<const Tok*>& words) {
    static const std::set<std::string, std::less<>> kAdverbs = {
        "then",       "also",     "first",    "quickly",  "immediately",
        "personally", "finally",  "just",     "actually", "eventually",
        "carefully",  "directly", "together", "all",      "both"};
    for (size_t i = 0; i < words.size(); ++i) {
        if (words[i]->norm != "i" && words[i]->norm != "we") continue;
        for (size_t k = i + 1; k < words.size() && k <= i + 3; ++k) {
            if (is_action_verb(words[k]->norm)) return true;
            if (!kAdverbs.count(words[k]->norm)) break;
        }
    }
    return false;
}

// ---- wording -------------------------------------------------------------------------------

// Words a sentence cannot end on: a pause after one means the thought was left unfinished.
bool is_dangling(const std::string& w) {
    static const std::set<std::string, std::less<>> kDangling = {
        "the",  "a",   "an",   "and",   "but", "or",   "because", "of",   "with", "from",
        "my",   "our", "your", "their", "his", "its",  "which",   "who",  "if",   "when",
        "is",   "was", "were", "are",   "i",   "we",   "by",      "into", "than", "very",
        "also", "the", "to",   "for",   "so",  "then", "whether", "while"};
    return kDangling.count(w) > 0;
}

// Weak words that add nothing, on top of the hedge list (speech/hedges.txt).
const std::vector<std::string>& weak_words() {
    static const std::vector<std::string> kWeak = {"just",      "basically", "actually",
                                                   "literally", "honestly",  "stuff"};
    return kWeak;
}

std::string quoted(std::string_view s) {
    return "\u201c" + std::string(s) + "\u201d";
}

std::string join_raw(const std::vector<const Tok*>& w, size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to && i < w.size(); ++i) {
        if (!out.empty()) out += ' ';
        out += w[i]->raw;
    }
    return out;
}

void repeated_words(const std::vector<const Tok*>& w, std::vector<GrammarIssue>& out) {
    // "had had" and "that that" are English.
    static const std::set<std::string, std::less<>> kFine = {"had", "that"};
    size_t found = 0;
    for (size_t i = 1; i < w.size() && found < kMaxRepeatIssues; ++i) {
        if (w[i]->norm != w[i - 1]->norm || kFine.count(w[i]->norm)) continue;
        out.push_back({w[i - 1]->raw + " " + w[i]->raw,
                       "Repeated word " + quoted(w[i]->norm) + ": say it once."});
        ++found;
        while (i + 1 < w.size() && w[i + 1]->norm == w[i]->norm) ++i;
    }
}

void unfinished_sentences(const std::vector<Tok>& toks, const std::vector<const Tok*>& w,
                          bool voice, std::vector<GrammarIssue>& out) {
    size_t found = 0;
    auto report = [&](size_t i, const std::string& why) {
        const size_t from = i >= 3 ? i - 3 : 0;
        out.push_back({join_raw(w, from, i + 1) + "\u2026",
                       "The sentence stops after " + quoted(w[i]->norm) + why +
                           ": finish the thought before you stop."});
        ++found;
    };
    if (voice) {
        // The gap after each content word, up to the next word (fillers included).
        for (size_t i = 0; i < w.size() && found < kMaxUnfinishedIssues; ++i) {
            const Tok* next = nullptr;
            for (const Tok* t = w[i] + 1; t < toks.data() + toks.size(); ++t)
                if (!t->filler) {
                    next = t;
                    break;
                }
            if (!is_dangling(w[i]->norm)) continue;
            const double gap = next ? next->start_s - w[i]->end_s : 0;
            if (next && gap >= kLongPauseS) {
                char buf[64];
                std::snprintf(buf, sizeof buf, " for %.1f s", gap);
                report(i, buf);
            } else if (!next && i + 1 == w.size()) {
                report(i, " at the end of the answer");
            }
        }
        return;
    }
    for (size_t i = 0; i < w.size() && found < kMaxUnfinishedIssues; ++i)
        if (is_dangling(w[i]->norm) && (w[i]->stop_after || i + 1 == w.size()))
            report(i, i + 1 == w.size() ? " at the end of the answer" : "");
}

void weak_wording(const std::vector<const Tok*>& w, std::vector<GrammarIssue>& out) {
    std::vector<std::string> words;
    for (const Tok* t : w) words.push_back(t->norm);
    std::vector<std::string> phrases = default_hedges();
    phrases.insert(phrases.end(), weak_words().begin(), weak_words().end());
    const lexicon::PhraseCounts c = lexicon::count_phrases(words, phrases);
    std::vector<std::pair<std::string, int>> by(c.by_phrase.begin(), c.by_phrase.end());
    std::stable_sort(by.begin(), by.end(), [](auto& a, auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < by.size() && i < kMaxWeakIssues; ++i) {
        const auto& [p, n] = by[i];
        const bool weak =
            std::find(weak_words().begin(), weak_words().end(), p) != weak_words().end();
        std::string msg = quoted(p) + (n > 1 ? " " + std::to_string(n) + " times" : "") +
                          (weak ? ": a filler word that weakens the sentence; leave it out."
                                : ": a hedge that makes you sound unsure; say it plainly.");
        out.push_back({p, std::move(msg)});
    }
}

void run_ons(const std::vector<const Tok*>& w, bool voice, std::vector<GrammarIssue>& out) {
    size_t begin = 0, found = 0;
    for (size_t i = 0; i < w.size() && found < kMaxRunOnIssues; ++i) {
        const bool last = i + 1 == w.size();
        const bool brk =
            last || (voice ? w[i + 1]->start_s - w[i]->end_s >= kStretchBreakS : w[i]->stop_after);
        if (!brk) continue;
        const size_t len = i + 1 - begin;
        if (len > static_cast<size_t>(kRunOnWords)) {
            out.push_back({join_raw(w, begin, begin + 6) + "\u2026",
                           "A stretch of " + std::to_string(len) + " words without a break" +
                               (voice ? "" : " (no full stop)") +
                               ": split it into shorter sentences."});
            ++found;
        }
        begin = i + 1;
    }
}

bool spellable(const std::string& raw) {
    bool upper = true;
    for (unsigned char c : raw) {
        if (!(std::isalpha(c) || c == '\'' || c >= 0x80)) return false;
        if (std::islower(c)) upper = false;
    }
    return !(upper && raw.size() >= 2);  // acronyms: "KPI", "SQL"
}

void spelling(const std::vector<const Tok*>& w, const Speller& sp, std::vector<GrammarIssue>& out) {
    std::set<std::string> seen;
    for (const Tok* t : w) {
        if (out.size() >= 64 || seen.size() >= kMaxSpellingIssues) break;
        if (!spellable(t->raw) || seen.count(t->norm)) continue;
        const std::optional<bool> ok = sp.correct(t->raw);
        if (!ok) return;  // not checking
        if (*ok) continue;
        seen.insert(t->norm);
        const std::vector<std::string> s =
            seen.size() <= kMaxSuggested ? sp.suggest(t->raw, 1) : std::vector<std::string>{};
        out.push_back(
            {t->raw, "Possibly misspelt" +
                         (s.empty() ? std::string(".") : ": did you mean " + quoted(s[0]) + "?")});
    }
}

// ---- what an answer shows, shared by assess and decide_follow_up -----------------------------

struct Facts {
    int words = 0;  // content words (fillers left out)
    int fillers = 0;
    int hedges = 0;
    bool has_number = false;
    bool technical = false;
};

Facts facts_of(const Question& q, const std::vector<Tok>& toks, const Answer& a) {
    Facts f;
    std::vector<std::string> words;
    for (const Tok& t : toks) {
        if (t.filler) {
            ++f.fillers;
            continue;
        }
        ++f.words;
        words.push_back(t.norm);
        f.has_number = f.has_number || is_number(t.norm);
    }
    f.hedges = a.analysis ? a.analysis->hedges.count
                          : lexicon::count_phrases(words, default_hedges()).total;
    f.technical = q.competency == "technical";
    return f;
}

bool has_example(const Feedback& f) {
    return f.structure.action && (f.structure.situation || f.structure.result);
}

void relevance(const Question& q, const std::vector<std::string>& stems, const Facts& facts,
               Feedback& f) {
    for (const KeyPoint& kp : q.key_points) {
        bool hit = false;
        for (const std::string& term : kp.terms)
            if (has_phrase(stems, stems_of(term), true)) {
                hit = true;
                break;
            }
        // A key point without terms is matched on its own description's words.
        if (kp.terms.empty()) hit = has_phrase(stems, stems_of(kp.text), true);
        (hit ? f.relevance.covered : f.relevance.missed).push_back(kp.text);
    }
    const int target = target_words(q.difficulty);
    if (q.key_points.empty()) {
        f.relevance.score = std::min(100, 100 * facts.words / target);
    } else {
        f.relevance.score =
            static_cast<int>(std::lround(100.0 * static_cast<double>(f.relevance.covered.size()) /
                                         static_cast<double>(q.key_points.size())));
    }
}

void structure(const std::vector<const Tok*>& w, const std::vector<std::string>& stems,
               const Facts& facts, Feedback& f) {
    const Cues& c = star_cues();
    auto& s = f.structure;
    s.situation = any_cue(stems, c.situation) ||
                  std::any_of(w.begin(), w.end(), [](const Tok* t) { return is_year(t->norm); });
    s.task = any_cue(stems, c.task);
    s.action = has_action(w);
    s.result = facts.has_number || any_cue(stems, c.result);
    s.score =
        static_cast<int>(std::lround((s.situation ? kStarSituation : 0) + (s.task ? kStarTask : 0) +
                                     (s.action ? kStarAction : 0) + (s.result ? kStarResult : 0)));
}

void delivery(const Answer& a, const Facts& facts, Feedback& f) {
    auto& d = f.delivery;
    d.hedges = facts.hedges;
    if (a.analysis) {
        d.wpm = a.analysis->wpm;
        d.fillers_per_min = a.analysis->fillers.per_min;
        d.pauses_long = a.analysis->pauses.long_count;
        d.confidence = a.analysis->confidence;
    } else if (!a.typed() && a.duration_s > 0) {
        d.fillers_per_min = facts.fillers * 60.0 / a.duration_s;
    } else {
        d.fillers_per_min = facts.words ? facts.fillers * kTypedWpm / facts.words : 0.0;
    }
}

std::string first_of(const std::vector<std::string>& v, size_t n) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < n; ++i) {
        if (i) out += i + 1 == std::min(v.size(), n) ? " and " : ", ";
        out += quoted(v[i]);
    }
    return out;
}

void tips(const Question& q, const Answer& a, const Facts& facts, Feedback& f) {
    std::vector<std::string>& t = f.tips;
    const auto& s = f.structure;
    const int target = target_words(q.difficulty);
    if (facts.words * 2 < target)
        t.push_back("Say more: " + std::to_string(facts.words) +
                    " words is short for this question; aim for about " + std::to_string(target) +
                    ".");
    if (!f.relevance.missed.empty())
        t.push_back("Cover what the question asks about: " + first_of(f.relevance.missed, 2) +
                    (f.relevance.missed.size() == 1 ? " was" : " were") + " missing.");
    if (!facts.technical && !has_example(f))
        t.push_back(
            "Use one specific example from your own experience: where it happened, "
            "what you did and what came of it.");
    else if (!s.situation || !s.task)
        t.push_back(
            "Open with the situation and your task in a sentence or two, so the listener "
            "knows what was at stake.");
    if (!s.action)
        t.push_back(
            "Say what you did yourself (\u201cI called\u2026\u201d, \u201cI built\u2026\u201d), "
            "step by step.");
    if (!s.result)
        t.push_back(
            "End with the result, with a number if you can: time saved, percentage "
            "improved, customers affected.");
    else if (!facts.has_number)
        t.push_back(
            "Put a number on the result (how much, how many, how fast): it makes the "
            "outcome concrete.");
    if (facts.hedges >= 2)
        t.push_back("Drop the hedges (" + std::to_string(facts.hedges) +
                    " in this answer): say what you did and what you think, plainly.");
    const auto& d = f.delivery;
    if (a.analysis && d.fillers_per_min && *d.fillers_per_min > 4)
        t.push_back("Replace fillers with a short silent pause.");
    if (a.analysis && d.wpm && *d.wpm > 0 && *d.wpm < 110)
        t.push_back("Speak a little faster: aim for 120 to 165 words a minute.");
    if (a.analysis && d.wpm && *d.wpm > 180)
        t.push_back("Slow down: aim for 120 to 165 words a minute.");
    if (!f.grammar.issues.empty())
        t.push_back("Reread the wording notes: " + f.grammar.issues[0].message);
    if (t.size() > 4) t.resize(4);
    // Fewer than two: the answer did well; say what to keep and how to sharpen it.
    if (t.size() < 2) t.push_back("Keep this order: situation, task, action, result.");
    if (t.size() < 2)
        t.push_back(
            "Practise it aloud once more and cut any sentence that does not add to the story.");
}

int clamp100(double v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, 100.0)));
}

// Challenging follow-ups: the ones hard interviews prefer.
bool is_challenging(const std::string& text) {
    const std::string l = lower(text);
    for (const char* cue : {"differently", "measure", "metric", "why", "trade-off", "tradeoff",
                            "wrong", "fail", "again", "prove", "worst", "risk"})
        if (l.find(cue) != std::string::npos) return true;
    return false;
}

std::string template_follow_up(const std::string& reason, const Feedback& f, bool hard) {
    if (reason == "missed_key_points" && !f.relevance.missed.empty()) {
        std::string m = f.relevance.missed[0];
        if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z') m[0] = static_cast<char>(m[0] - 'A' + 'a');
        return "You did not mention " + m + ". How did that come into it?";
    }
    if (hard) {
        if (!f.structure.result) return "How did you measure the result?";
        return "Looking back, what would you do differently?";
    }
    if (reason == "too_short")
        return "Could you tell me more? Walk me through what happened, step by step.";
    if (reason == "no_example")
        return "Can you give me a specific example from your own experience?";
    return "What exactly did you do, and what was the result?";  // hedging
}

void write_strings(core::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
    w.key(key).begin_array();
    for (const std::string& s : v) w.value(s);
    w.end_array();
}

template <class T>
void write_optional(core::JsonWriter& w, std::string_view key, const std::optional<T>& v) {
    w.key(key);
    if (v)
        w.value(*v);
    else
        w.null();
}

}  // namespace

Feedback assess(const Question& q, const Answer& a, const Speller* speller) {
    Feedback f;
    const std::vector<Tok> toks = tokens_of(a);
    const std::vector<const Tok*> words = content(toks);
    std::vector<std::string> stems;
    stems.reserve(words.size());
    for (const Tok* t : words) stems.push_back(stem(t->norm));
    const Facts facts = facts_of(q, toks, a);
    relevance(q, stems, facts, f);
    structure(words, stems, facts, f);
    delivery(a, facts, f);
    const bool voice = !a.typed();
    repeated_words(words, f.grammar.issues);
    unfinished_sentences(toks, words, voice, f.grammar.issues);
    weak_wording(words, f.grammar.issues);
    run_ons(words, voice, f.grammar.issues);
    if (!voice && speller) spelling(words, *speller, f.grammar.issues);
    tips(q, a, facts, f);
    return f;
}

AnswerScores score_answer(const Question& q, const Answer& a, const Feedback& f) {
    AnswerScores s;
    const std::vector<Tok> toks = tokens_of(a);
    const Facts facts = facts_of(q, toks, a);
    if (facts.words == 0) return s;  // nothing said: every score 0
    s.relevance = f.relevance.score;
    s.structure = f.structure.score;
    s.grammar = std::max(0, 100 - kGrammarPenalty * static_cast<int>(f.grammar.issues.size()));
    const double hedge = scoring::hedge_score(100.0 * facts.hedges / facts.words);
    const double filler =
        scoring::filler_score(100.0 * facts.fillers / (facts.words + facts.fillers));
    if (a.analysis) {
        s.delivery = a.analysis->scores.overall;
        s.fluency = a.analysis->scores.fluency;
        s.confidence = a.analysis->scores.confidence;
    } else {
        s.delivery = clamp100((hedge + filler) / 2);
        s.fluency = clamp100((s.grammar + filler) / 2);
        s.confidence = clamp100(hedge);
    }
    s.communication = clamp100(0.35 * s.relevance + 0.35 * s.structure + 0.30 * s.grammar);
    s.overall = clamp100(0.30 * s.relevance + 0.25 * s.structure + 0.15 * s.delivery +
                         0.10 * s.grammar + 0.10 * s.fluency + 0.10 * s.confidence);
    return s;
}

FollowUp decide_follow_up(const Question& q, const Answer& a, const Feedback& f,
                          std::string_view interview_difficulty, bool is_follow_up) {
    FollowUp out;
    if (is_follow_up) return out;
    const Facts facts = facts_of(q, tokens_of(a), a);
    const size_t total = q.key_points.size();
    if (facts.words * 2 < target_words(q.difficulty))
        out.reason = "too_short";
    else if (!facts.technical && !has_example(f))
        out.reason = "no_example";
    else if (total > 0 && f.relevance.covered.size() * 2 < total)
        out.reason = "missed_key_points";
    else if (facts.hedges >= kHedgingFollowUp)
        out.reason = "hedging";
    else
        return out;
    out.ask = true;
    const bool hard = interview_difficulty == "hard";
    // The question's own follow-ups: hard interviews take the first challenging one, others
    // the first plain one; either falls back to the first.
    const std::string* pick = nullptr;
    for (const std::string& fu : q.follow_ups)
        if (!fu.empty() && is_challenging(fu) == hard) {
            pick = &fu;
            break;
        }
    if (!pick)
        for (const std::string& fu : q.follow_ups)
            if (!fu.empty()) {
                pick = &fu;
                break;
            }
    out.text = pick ? *pick : template_follow_up(out.reason, f, hard);
    return out;
}

Scorecard score_interview(const std::vector<ScoredTurn>& answered, int skipped_questions) {
    Scorecard c;
    const int n = static_cast<int>(answered.size()) + std::max(0, skipped_questions);
    if (n == 0) return c;
    double sum[6] = {0, 0, 0, 0, 0, 0};
    int no_result = 0, no_action = 0, no_situation = 0, hedged = 0;
    std::map<std::string, int> missed;
    for (const ScoredTurn& t : answered) {
        const AnswerScores& s = t.scores;
        sum[0] += s.communication;
        sum[1] += s.fluency;
        sum[2] += s.confidence;
        sum[3] += s.relevance;
        sum[4] += s.structure;
        sum[5] += s.overall;
        if (!t.feedback) continue;
        no_result += !t.feedback->structure.result;
        no_action += !t.feedback->structure.action;
        no_situation += !t.feedback->structure.situation;
        hedged += t.feedback->delivery.hedges >= 2;
        for (const std::string& m : t.feedback->relevance.missed) ++missed[m];
    }
    auto avg = [&](int i) { return clamp100(sum[i] / n); };
    c.communication = avg(0);
    c.fluency = avg(1);
    c.confidence = avg(2);
    c.relevance = avg(3);
    c.structure = avg(4);
    c.overall = avg(5);

    const std::string of = " of " + std::to_string(answered.size()) + " answers";
    auto strength = [&](int v, const char* text) {
        if (v >= 75) c.strengths.push_back(text);
    };
    strength(c.relevance, "Your answers covered most of what the questions asked about.");
    strength(c.structure,
             "Your answers told complete stories: situation, task, action and result.");
    strength(c.communication, "Your answers were clear and on topic.");
    strength(c.fluency, "You spoke fluently, with few fillers or repeated words.");
    strength(c.confidence, "You sounded sure of what you said, with few hedges.");
    if (c.relevance < 60) {
        std::string s = "Cover the points each question asks about (relevance " +
                        std::to_string(c.relevance) + ")";
        const auto top = std::max_element(missed.begin(), missed.end(),
                                          [](auto& a, auto& b) { return a.second < b.second; });
        if (top != missed.end()) s += "; most often missing: " + quoted(top->first);
        c.improvements.push_back(s + ".");
    }
    if (no_result > 0 && c.structure < 75)
        c.improvements.push_back("The result was missing in " + std::to_string(no_result) + of +
                                 ": end each story with what changed, with a number if you can.");
    if (no_action > 0 && c.structure < 75)
        c.improvements.push_back("What you did yourself was missing in " +
                                 std::to_string(no_action) + of +
                                 ": say \u201cI\u201d and the steps you took.");
    if (no_situation > 0 && c.structure < 60)
        c.improvements.push_back("The situation was missing in " + std::to_string(no_situation) +
                                 of + ": open with where and when it happened.");
    if (c.fluency < 60)
        c.improvements.push_back("Fluency was " + std::to_string(c.fluency) +
                                 ": replace fillers with short pauses and finish each sentence.");
    if (hedged > 0 && c.confidence < 75)
        c.improvements.push_back(
            "Hedges (\u201ckind of\u201d, \u201cmaybe\u201d, \u201cI think\u201d) came up in " +
            std::to_string(hedged) + of + ": say it plainly.");
    if (skipped_questions > 0)
        c.improvements.push_back("You skipped " + std::to_string(skipped_questions) +
                                 (skipped_questions == 1 ? " question" : " questions") +
                                 ": each counts as 0, so even a short answer scores more.");
    if (c.strengths.empty() && !answered.empty())
        c.strengths.push_back("You answered " + std::to_string(answered.size()) +
                              (answered.size() == 1 ? " question" : " questions") + " to the end.");
    if (c.improvements.empty())
        c.improvements.push_back("Keep practising at a harder difficulty to keep improving.");
    return c;
}

std::string feedback_json(const Feedback& f) {
    core::JsonWriter w;
    w.begin_object();
    w.key("relevance").begin_object().field("score", f.relevance.score);
    write_strings(w, "covered", f.relevance.covered);
    write_strings(w, "missed", f.relevance.missed);
    w.end_object();
    w.key("structure").begin_object().field("score", f.structure.score);
    w.key("star").begin_object();
    w.field("situation", f.structure.situation).field("task", f.structure.task);
    w.field("action", f.structure.action).field("result", f.structure.result);
    w.end_object().end_object();
    w.key("delivery").begin_object();
    write_optional(w, "wpm", f.delivery.wpm);
    write_optional(w, "fillers_per_min", f.delivery.fillers_per_min);
    w.field("hedges", f.delivery.hedges);
    write_optional(w, "pauses_long", f.delivery.pauses_long);
    write_optional(w, "confidence", f.delivery.confidence);
    w.end_object();
    w.key("grammar").begin_object().key("issues").begin_array();
    for (const GrammarIssue& g : f.grammar.issues)
        w.begin_object().field("text", g.text).field("message", g.message).end_object();
    w.end_array().end_object();
    write_strings(w, "tips", f.tips);
    w.end_object();
    return w.take();
}

std::string scores_json(const AnswerScores& s) {
    core::JsonWriter w;
    w.begin_object();
    w.field("relevance", s.relevance).field("structure", s.structure);
    w.field("delivery", s.delivery).field("grammar", s.grammar);
    w.field("communication", s.communication).field("fluency", s.fluency);
    w.field("confidence", s.confidence).field("overall", s.overall);
    w.end_object();
    return w.take();
}

std::string question_json(const Question& q) {
    core::JsonWriter w;
    w.begin_object();
    w.field("id", q.id).field("text", q.text);
    w.field("competency", q.competency).field("difficulty", q.difficulty);
    w.key("key_points").begin_array();
    for (const KeyPoint& k : q.key_points) {
        w.begin_object().field("text", k.text);
        write_strings(w, "terms", k.terms);
        w.end_object();
    }
    w.end_array();
    write_strings(w, "follow_ups", q.follow_ups);
    w.end_object();
    return w.take();
}

namespace {

// A string member: absent or null → "" when optional; anything else but a string fails.
bool read_string(const cJSON* obj, const char* key, bool required, std::string& out) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return !required;
    if (!cJSON_IsString(v) || !v->valuestring) return false;
    out = v->valuestring;
    return true;
}

bool read_strings(const cJSON* obj, const char* key, std::vector<std::string>& out) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsArray(v)) return false;
    for (const cJSON* e = v->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring) return false;
        out.emplace_back(e->valuestring);
    }
    return true;
}

}  // namespace

std::optional<Question> parse_question(std::string_view json) {
    core::JsonPtr root;
    try {
        root = core::parse_json_strict(json);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!root || !cJSON_IsObject(root.get())) return std::nullopt;
    Question q;
    const cJSON* r = root.get();
    if (!read_string(r, "id", true, q.id) || !read_string(r, "text", true, q.text) ||
        !read_string(r, "competency", false, q.competency) ||
        !read_string(r, "difficulty", false, q.difficulty) ||
        !read_strings(r, "follow_ups", q.follow_ups))
        return std::nullopt;
    const cJSON* kps = cJSON_GetObjectItemCaseSensitive(r, "key_points");
    if (kps && !cJSON_IsNull(kps)) {
        if (!cJSON_IsArray(kps)) return std::nullopt;
        for (const cJSON* e = kps->child; e; e = e->next) {
            KeyPoint k;
            if (!cJSON_IsObject(e) || !read_string(e, "text", true, k.text) ||
                !read_strings(e, "terms", k.terms))
                return std::nullopt;
            q.key_points.push_back(std::move(k));
        }
    }
    return q;
}

}  // namespace speech::interview
