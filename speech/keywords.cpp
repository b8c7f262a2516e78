// Keyphrases by TF-IDF against the shipped background corpus (see keywords.h).
#include "speech/keywords.h"

#include <libstemmer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <unordered_set>

namespace speech::keywords {

extern const std::string_view kBackgroundCorpus;  // generated from speech/data/

namespace {

constexpr size_t kMaxWordBytes = 40;
constexpr size_t kMaxPhraseWords = 3;

// ---- the stemmer ----------------------------------------------------------------------------

struct StemmerDeleter {
    void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

// One stemmer per extraction (a stemmer is not shared between threads), with a cache: a
// description repeats its words.
class Stemmer {
  public:
    Stemmer() : s_(sb_stemmer_new("english", "UTF_8")) {
        if (!s_) throw std::runtime_error("libstemmer: no English stemmer");
    }
    const std::string& operator()(const std::string& w) {
        auto it = cache_.find(w);
        if (it != cache_.end()) return it->second;
        const sb_symbol* out = sb_stemmer_stem(
            s_.get(), reinterpret_cast<const sb_symbol*>(w.data()), static_cast<int>(w.size()));
        if (!out) throw std::bad_alloc();
        std::string st(reinterpret_cast<const char*>(out),
                       static_cast<size_t>(sb_stemmer_length(s_.get())));
        return cache_.emplace(w, std::move(st)).first->second;
    }

  private:
    std::unique_ptr<sb_stemmer, StemmerDeleter> s_;
    std::unordered_map<std::string, std::string> cache_;
};

// ---- characters -----------------------------------------------------------------------------

bool ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0; its code point in *cp.
size_t utf8_sequence(const unsigned char* p, size_t left, uint32_t* cp) {
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        *cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        *cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (left < n) return 0;
    for (size_t i = 1; i < n; ++i) {
        unsigned char b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return 0;
        *cp = (*cp << 6) | (b & 0x3F);
    }
    return n;
}

// What a character is to the tokeniser.
enum class Kind { word, apostrophe, joiner, boundary, space };

// Non-ASCII punctuation job descriptions pasted from documents are full of.
Kind kind_of_code_point(uint32_t cp) {
    switch (cp) {
        case 0x2018:
        case 0x2019:
            return Kind::apostrophe;
        case 0x00A0:
        case 0x2009:
        case 0x202F:
            return Kind::space;
        case 0x2022:  // bullets, dashes, quotes, ellipsis
        case 0x25CF:
        case 0x25AA:
        case 0x2013:
        case 0x2014:
        case 0x201C:
        case 0x201D:
        case 0x2026:
        case 0x00B7:
            return Kind::boundary;
        default:
            return cp < 0x80 ? Kind::space : Kind::word;
    }
}

Kind kind_of_ascii(unsigned char c) {
    if (ascii_alnum(c)) return Kind::word;
    switch (c) {
        case '\'':
            return Kind::apostrophe;
        case '.':
        case '-':
            return Kind::joiner;
        case ',':
        case ';':
        case ':':
        case '!':
        case '?':
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case '"':
        case '\n':
        case '\r':
        case '*':
        case '|':
        case '>':
        case '<':
        case '=':
            return Kind::boundary;
        default:
            return Kind::space;
    }
}

struct Char {
    Kind kind;
    size_t len;  // bytes
};

Char char_at(std::string_view t, size_t i) {
    auto p = reinterpret_cast<const unsigned char*>(t.data()) + i;
    if (*p < 0x80) return {kind_of_ascii(*p), 1};
    uint32_t cp = 0;
    size_t n = utf8_sequence(p, t.size() - i, &cp);
    if (n == 0) return {Kind::space, 1};  // an invalid byte separates words
    return {kind_of_code_point(cp), n};
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool all_digits(std::string_view s) {
    bool digit = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c != '.' && c != '-') {
            return false;
        }
    }
    return digit;
}

// Reads one word starting at i (a word character): letters, digits and valid multi-byte
// characters, an apostrophe or a joiner only between two of them, '+'/'#' right after it.
std::string read_word(std::string_view t, size_t& i) {
    std::string w;
    while (i < t.size()) {
        Char c = char_at(t, i);
        if (c.kind == Kind::word) {
            w.append(t.substr(i, c.len));
            i += c.len;
            continue;
        }
        if (c.kind == Kind::apostrophe || c.kind == Kind::joiner) {
            size_t j = i + c.len;
            if (j < t.size() && char_at(t, j).kind == Kind::word) {
                w += c.kind == Kind::apostrophe ? '\'' : t[i];
                i = j;
                continue;
            }
        }
        break;
    }
    while (i < t.size() && (t[i] == '+' || t[i] == '#') && w.size() < kMaxWordBytes) w += t[i++];
    if (w.size() > 2 && w.compare(w.size() - 2, 2, "'s") == 0) w.resize(w.size() - 2);
    return w;
}

// ---- stop words -----------------------------------------------------------------------------

const std::unordered_set<std::string_view>& stop_words() {
    // Function words, then the words job ads use around skills without being one.
    static const std::unordered_set<std::string_view> kStop = {"a",
                                                               "about",
                                                               "above",
                                                               "across",
                                                               "after",
                                                               "again",
                                                               "against",
                                                               "all",
                                                               "also",
                                                               "am",
                                                               "among",
                                                               "an",
                                                               "and",
                                                               "any",
                                                               "are",
                                                               "around",
                                                               "as",
                                                               "at",
                                                               "be",
                                                               "because",
                                                               "been",
                                                               "before",
                                                               "being",
                                                               "below",
                                                               "between",
                                                               "both",
                                                               "but",
                                                               "by",
                                                               "can",
                                                               "could",
                                                               "did",
                                                               "do",
                                                               "does",
                                                               "doing",
                                                               "don't",
                                                               "down",
                                                               "during",
                                                               "each",
                                                               "either",
                                                               "else",
                                                               "etc",
                                                               "e.g",
                                                               "eg",
                                                               "i.e",
                                                               "ie",
                                                               "every",
                                                               "few",
                                                               "for",
                                                               "from",
                                                               "further",
                                                               "had",
                                                               "has",
                                                               "have",
                                                               "having",
                                                               "he",
                                                               "her",
                                                               "here",
                                                               "hers",
                                                               "him",
                                                               "his",
                                                               "how",
                                                               "however",
                                                               "i",
                                                               "if",
                                                               "in",
                                                               "into",
                                                               "is",
                                                               "it",
                                                               "its",
                                                               "it's",
                                                               "just",
                                                               "less",
                                                               "let",
                                                               "may",
                                                               "me",
                                                               "might",
                                                               "more",
                                                               "most",
                                                               "much",
                                                               "must",
                                                               "my",
                                                               "near",
                                                               "need",
                                                               "needs",
                                                               "no",
                                                               "nor",
                                                               "not",
                                                               "now",
                                                               "of",
                                                               "off",
                                                               "often",
                                                               "on",
                                                               "once",
                                                               "one",
                                                               "only",
                                                               "or",
                                                               "other",
                                                               "others",
                                                               "our",
                                                               "ours",
                                                               "out",
                                                               "over",
                                                               "own",
                                                               "per",
                                                               "same",
                                                               "shall",
                                                               "she",
                                                               "should",
                                                               "so",
                                                               "some",
                                                               "such",
                                                               "than",
                                                               "that",
                                                               "the",
                                                               "their",
                                                               "theirs",
                                                               "them",
                                                               "then",
                                                               "there",
                                                               "these",
                                                               "they",
                                                               "this",
                                                               "those",
                                                               "through",
                                                               "throughout",
                                                               "thus",
                                                               "to",
                                                               "too",
                                                               "under",
                                                               "until",
                                                               "up",
                                                               "upon",
                                                               "us",
                                                               "very",
                                                               "via",
                                                               "was",
                                                               "we",
                                                               "we'll",
                                                               "we're",
                                                               "we've",
                                                               "were",
                                                               "what",
                                                               "when",
                                                               "where",
                                                               "whether",
                                                               "which",
                                                               "while",
                                                               "who",
                                                               "whom",
                                                               "whose",
                                                               "why",
                                                               "will",
                                                               "with",
                                                               "within",
                                                               "without",
                                                               "would",
                                                               "yet",
                                                               "you",
                                                               "you'll",
                                                               "you're",
                                                               "you've",
                                                               "your",
                                                               "yours",
                                                               "yourself",
                                                               "able",
                                                               "ability",
                                                               "abilities",
                                                               "plus",
                                                               "including",
                                                               "include",
                                                               "includes",
                                                               "years",
                                                               "year",
                                                               "ideal",
                                                               "ideally",
                                                               "candidate",
                                                               "candidates",
                                                               "role",
                                                               "roles",
                                                               "position",
                                                               "job",
                                                               "responsibilities",
                                                               "responsibility",
                                                               "requirements",
                                                               "requirement",
                                                               "preferred",
                                                               "required",
                                                               "strong",
                                                               "excellent",
                                                               "good",
                                                               "great",
                                                               "experience",
                                                               "experienced",
                                                               "knowledge",
                                                               "understanding",
                                                               "skills",
                                                               "skill",
                                                               "proven",
                                                               "familiarity",
                                                               "familiar",
                                                               "proficiency",
                                                               "proficient",
                                                               "demonstrated",
                                                               "solid",
                                                               "like",
                                                               "well",
                                                               "new",
                                                               "using",
                                                               "use",
                                                               "based",
                                                               "related",
                                                               "relevant",
                                                               "various",
                                                               "other",
                                                               "least",
                                                               "minimum",
                                                               "equivalent",
                                                               "desirable",
                                                               "essential",
                                                               "looking",
                                                               "join",
                                                               "help",
                                                               "want",
                                                               "make",
                                                               "get",
                                                               "two",
                                                               "three",
                                                               "five",
                                                               "several",
                                                               "many",
                                                               "day",
                                                               "days",
                                                               "week",
                                                               "weeks",
                                                               "time",
                                                               "way",
                                                               "ways",
                                                               "things",
                                                               "thing",
                                                               "someone",
                                                               "something",
                                                               "anyone",
                                                               "everyone",
                                                               "lot",
                                                               "lots",
                                                               "really",
                                                               "apply",
                                                               "behind",
                                                               "beyond",
                                                               "along",
                                                               "alongside",
                                                               "toward",
                                                               "towards",
                                                               "onto",
                                                               "inside",
                                                               "outside",
                                                               "besides",
                                                               "despite",
                                                               "unlike",
                                                               "versus",
                                                               "vs",
                                                               "whilst",
                                                               "amongst",
                                                               "senior",
                                                               "junior",
                                                               "mid",
                                                               "level",
                                                               "ensure",
                                                               "ensuring",
                                                               "new"};
    return kStop;
}

// The verbs a job ad's bullets start with ("Automate deployments", "Writes runbooks"): never
// the first word of a keyphrase nor one on its own ("code review" and "load testing" keep
// theirs at the end). Base and third-person forms: both styles of bullet are common.
const std::unordered_set<std::string_view>& leading_verbs() {
    static const std::unordered_set<std::string_view> kVerbs = [] {
        std::unordered_set<std::string_view> v;
        static const char* const kBase[] = {
            "analyse",     "analyze",     "assist",       "automate",    "build",      "coach",
            "collaborate", "communicate", "conduct",      "contribute",  "coordinate", "create",
            "define",      "deliver",     "deploy",       "design",      "develop",    "document",
            "drive",       "establish",   "evaluate",     "handle",      "identify",   "implement",
            "improve",     "keep",        "lead",         "maintain",    "manage",     "mentor",
            "monitor",     "negotiate",   "operate",      "optimise",    "optimize",   "organise",
            "organize",    "oversee",     "own",          "participate", "partner",    "perform",
            "plan",        "prepare",     "present",      "promote",     "provide",    "report",
            "research",    "resolve",     "respond",      "review",      "run",        "scale",
            "schedule",    "set",         "support",      "supervise",   "take",       "test",
            "track",       "train",       "troubleshoot", "tune",        "work",       "write"};
        static const char* const kThird[] = {
            "analyses",    "analyzes",     "assists",       "automates",  "builds",
            "coaches",     "collaborates", "communicates",  "conducts",   "contributes",
            "coordinates", "creates",      "defines",       "delivers",   "deploys",
            "designs",     "develops",     "documents",     "drives",     "establishes",
            "evaluates",   "handles",      "identifies",    "implements", "improves",
            "keeps",       "leads",        "maintains",     "manages",    "mentors",
            "monitors",    "negotiates",   "operates",      "optimises",  "optimizes",
            "organises",   "organizes",    "oversees",      "owns",       "participates",
            "partners",    "performs",     "plans",         "prepares",   "presents",
            "promotes",    "provides",     "reports",       "researches", "resolves",
            "responds",    "reviews",      "runs",          "scales",     "schedules",
            "sets",        "supports",     "supervises",    "takes",      "tests",
            "tracks",      "trains",       "troubleshoots", "tunes",      "works",
            "writes"};
        for (const char* w : kBase) v.insert(w);
        for (const char* w : kThird) v.insert(w);
        return v;
    }();
    return kVerbs;
}

// Adjectives that follow what they describe ("keep the pipelines healthy"): never the last
// word of a keyphrase nor one on its own ("scalable systems" keeps its first word).
bool trailing_adjective(std::string_view w) {
    static const std::unordered_set<std::string_view> kAdjectives = {
        "healthy",    "reliable",  "scalable",   "secure",    "available", "fast",
        "stable",     "clean",     "efficient",  "effective", "accurate",  "robust",
        "happy",      "safe",      "simple",     "clear",     "ready",     "responsive",
        "consistent", "compliant", "up-to-date", "running",   "smooth"};
    return kAdjectives.count(w) != 0;
}

// ---- candidates -----------------------------------------------------------------------------

// A content word: not a stop word, not a number, at least two bytes ("c++" and "c#" are).
bool content(const Token& t) {
    if (t.lower.size() < 2 || all_digits(t.lower)) return false;
    return !is_stop_word(t.lower);
}

// As the text spelled it, except a word Capitalised only at the start of a clause or a line
// ("Design data pipelines" → "design"): "Kafka" mid-sentence, "PostgreSQL" and "AWS" stay.
std::string display_word(const Token& t) {
    const std::string& s = t.surface;
    bool rest_lower =
        std::none_of(s.begin() + 1, s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (t.boundary && s[0] >= 'A' && s[0] <= 'Z' && rest_lower) return t.lower;
    return s;
}

struct Candidate {
    Keyphrase phrase;
    size_t first = 0;                  // token index of its first occurrence
    std::map<std::string, int> shown;  // display spellings and their counts
};

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) {
        if (!out.empty()) out += ' ';
        out += p;
    }
    return out;
}

// Every n-gram (n ≤ 3) of every run of content words, counted by its stems.
std::map<std::string, Candidate> candidates(const std::vector<Token>& toks,
                                            const std::vector<std::string>& stems,
                                            const Background& bg) {
    std::map<std::string, Candidate> out;
    size_t i = 0;
    while (i < toks.size()) {
        if (stems[i].empty()) {
            ++i;
            continue;
        }
        size_t end = i + 1;  // the run [i, end)
        while (end < toks.size() && !stems[end].empty() && !toks[end].boundary) ++end;
        for (size_t s = i; s < end; ++s) {
            if (bg.general(stems[s]) || leading_verbs().count(toks[s].lower)) continue;
            for (size_t n = 1; n <= kMaxPhraseWords && s + n <= end; ++n) {
                const Token& last = toks[s + n - 1];
                if (bg.general(stems[s + n - 1]) || trailing_adjective(last.lower)) continue;
                std::vector<std::string> st(stems.begin() + static_cast<long>(s),
                                            stems.begin() + static_cast<long>(s + n));
                Candidate& c = out[join(st)];
                std::vector<std::string> shown;
                for (size_t k = s; k < s + n; ++k) shown.push_back(display_word(toks[k]));
                std::string text = join(shown);
                int& seen = c.shown[text];
                // The most frequent spelling, the first one seen on a tie.
                if (++seen > c.shown[c.phrase.text] || c.phrase.count == 0) c.phrase.text = text;
                if (c.phrase.count++ == 0) {
                    c.first = s;
                    c.phrase.stems = std::move(st);
                    for (size_t k = s; k < s + n; ++k) c.phrase.words.push_back(toks[k].lower);
                }
            }
        }
        i = end;
    }
    return out;
}

bool subset(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::all_of(a.begin(), a.end(), [&](const std::string& x) {
        return std::find(b.begin(), b.end(), x) != b.end();
    });
}

// The greedy pick of keywords.h: skip what a pick covers, let a longer phrase holding half of
// a pick's occurrences replace it.
std::vector<Keyphrase> pick(std::vector<Candidate>& ranked, size_t k) {
    std::vector<Keyphrase> picks;
    for (Candidate& c : ranked) {
        const Keyphrase& p = c.phrase;
        if (std::any_of(picks.begin(), picks.end(),
                        [&](const Keyphrase& q) { return subset(p.stems, q.stems); }))
            continue;
        std::vector<size_t> covered;
        for (size_t j = 0; j < picks.size(); ++j)
            if (subset(picks[j].stems, p.stems)) covered.push_back(j);
        if (covered.empty()) {
            if (picks.size() < k) picks.push_back(p);
            continue;
        }
        if (!std::all_of(covered.begin(), covered.end(),
                         [&](size_t j) { return 2 * p.count > picks[j].count; }))
            continue;
        picks[covered[0]] = p;
        for (size_t j = covered.size(); j-- > 1;)
            picks.erase(picks.begin() + static_cast<long>(covered[j]));
    }
    // A replacement took its word's place: best first again (stable: ties keep text order).
    std::stable_sort(picks.begin(), picks.end(),
                     [](const Keyphrase& a, const Keyphrase& b) { return a.score > b.score; });
    return picks;
}

}  // namespace

std::vector<Token> tokenize(std::string_view text) {
    std::vector<Token> out;
    bool boundary = true;  // the text's first word starts a clause
    size_t i = 0;
    while (i < text.size()) {
        Char c = char_at(text, i);
        if (c.kind != Kind::word) {
            if (c.kind == Kind::boundary) boundary = true;
            // A joiner between spaces (" - ") or at a line's end is punctuation too.
            if (c.kind == Kind::joiner) boundary = true;
            i += c.len;
            continue;
        }
        std::string w = read_word(text, i);
        if (w.size() > kMaxWordBytes) {
            boundary = true;
            continue;
        }
        out.push_back({w, ascii_lower(w), boundary});
        boundary = false;
    }
    return out;
}

std::string stem(std::string_view lower_word) {
    Stemmer s;
    return s(std::string(lower_word));
}

bool is_stop_word(std::string_view lower_word) {
    return stop_words().count(lower_word) != 0;
}

Background::Background(std::string_view corpus) {
    Stemmer st;
    size_t pos = 0;
    while (pos < corpus.size()) {
        size_t end = corpus.find("\n\n", pos);
        if (end == std::string_view::npos) end = corpus.size();
        std::set<std::string> seen;
        for (const Token& t : tokenize(corpus.substr(pos, end - pos)))
            if (content(t)) seen.insert(st(t.lower));
        if (!seen.empty()) {
            ++documents_;
            for (const std::string& s : seen) ++df_[s];
        }
        pos = end + 2;
    }
}

size_t Background::df(const std::string& stem) const {
    auto it = df_.find(stem);
    return it == df_.end() ? 0 : it->second;
}

double Background::idf(const std::string& stem) const {
    return std::log(static_cast<double>(documents_ + 1) / static_cast<double>(df(stem) + 1)) + 1;
}

bool Background::general(const std::string& stem) const {
    return static_cast<double>(df(stem)) > 0.1 * static_cast<double>(documents_);
}

std::string_view background_corpus_text() {
    return kBackgroundCorpus;
}

const Background& default_background() {
    static const Background kDefault(kBackgroundCorpus);
    return kDefault;
}

std::vector<Keyphrase> extract(std::string_view text, size_t k, const Background& bg) {
    if (k == 0) return {};
    std::vector<Token> toks = tokenize(text.substr(0, std::min(text.size(), kMaxTextBytes)));
    Stemmer st;
    std::vector<std::string> stems(toks.size());  // "" for a word that is not content
    for (size_t i = 0; i < toks.size(); ++i)
        if (content(toks[i])) stems[i] = st(toks[i].lower);
    std::map<std::string, Candidate> all = candidates(toks, stems, bg);
    std::vector<Candidate> ranked;
    ranked.reserve(all.size());
    for (auto& [key, c] : all) {
        double idf = 0;
        for (const std::string& s : c.phrase.stems) idf += bg.idf(s);
        const double n = static_cast<double>(c.phrase.stems.size());
        c.phrase.score =
            (1 + std::log(static_cast<double>(c.phrase.count))) * (idf / n) * (1 + 0.25 * (n - 1));
        ranked.push_back(std::move(c));
    }
    std::sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) {
        if (a.phrase.score != b.phrase.score) return a.phrase.score > b.phrase.score;
        if (a.first != b.first) return a.first < b.first;
        return a.phrase.stems.size() < b.phrase.stems.size();
    });
    return pick(ranked, k);
}

}  // namespace speech::keywords
