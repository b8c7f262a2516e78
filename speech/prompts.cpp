// The memo splitter (see prompts.h). Four passes over the recogniser's words:
//   1. tokens: fillers out (the recogniser's flag or the analysis' filler spellings), each
//      word with the silence before it, a filler's time counted as silence;
//   2. pieces: cut where that silence reaches rules.pause_s, and before a cue word that opens a
//      clause (not one bound to the word before it: "the first", "we also", "by then");
//   3. clean-up of each piece: immediate repetitions of 1-4 words dropped (false starts),
//      leading cue and discourse words ("and then", "so", "okay") and a closing "thanks" off;
//   4. leftovers: an empty piece goes, a short one joins its neighbour across the pause that
//      cut it, or goes when it holds only discourse words ("yeah", "thanks").
#include "speech/prompts.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "speech/lexicon.h"

namespace speech {
namespace {

struct Token {
    std::string text;  // as spoken, surrounding punctuation off
    std::string key;   // lower case, for the rules
    double start_s = 0, end_s = 0;
    double gap_before_s = 0;
    bool filled_before = false;  // a filler was said in that gap
};

// How a piece began: the start of the memo, a pause, or a cue word.
enum class Opened { start, pause, cue };

struct Piece {
    Opened opened = Opened::start;
    std::vector<Token> tokens;
};

template <size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view w) {
    return std::find(set.begin(), set.end(), w) != set.end();
}

// Words that open a new instruction.
constexpr std::array<std::string_view, 12> kCues = {"then",    "next",     "also",    "first",
                                                    "second",  "third",    "finally", "lastly",
                                                    "firstly", "secondly", "thirdly", "afterwards"};
// Cue words that are also ordinals/adjectives: "next week", "the first draft".
constexpr std::array<std::string_view, 7> kOrdinalCues = {"next",    "first",    "second", "third",
                                                          "firstly", "secondly", "thirdly"};
// After one of these, an ordinal is a time, not a cue ("next thursday", "first thing").
constexpr std::array<std::string_view, 22> kTimeWords = {
    "week",     "month",   "year",    "day",    "time",    "morning",   "afternoon", "evening",
    "night",    "weekend", "quarter", "monday", "tuesday", "wednesday", "thursday",  "friday",
    "saturday", "sunday",  "thing",   "to",     "one",     "half"};
// A cue word right after one of these is part of its clause: determiners, pronouns,
// auxiliaries, prepositions ("the first", "we also", "is then", "by then", "until next").
constexpr std::array<std::string_view, 52> kBinders = {
    "a",     "an",    "the",   "this",   "that", "these", "those", "my",  "our",
    "your",  "his",   "her",   "their",  "its",  "i",     "we",    "you", "he",
    "she",   "it",    "they",  "is",     "are",  "was",   "were",  "be",  "been",
    "am",    "will",  "would", "should", "can",  "could", "must",  "may", "might",
    "shall", "do",    "does",  "did",    "have", "has",   "had",   "by",  "until",
    "till",  "since", "for",   "on",     "of",   "in",    "at"};
// A clause opened by one of these takes its "then" along ("if it fails then call me").
constexpr std::array<std::string_view, 5> kConditionals = {"if", "when", "once", "whenever",
                                                           "unless"};
// Dropped from the start of a prompt (besides the cue words).
constexpr std::array<std::string_view, 5> kLeadingDiscourse = {"and", "so", "okay", "ok",
                                                               "alright"};
// A short piece made only of these is not an instruction.
constexpr std::array<std::string_view, 13> kDiscourseOnly = {
    "yeah", "yes", "no",     "okay", "ok",      "alright", "right",
    "so",   "and", "thanks", "bye",  "goodbye", "hello"};

bool is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '\'' || c >= 0x80;
}

// The word without surrounding punctuation, keeping its case ("Sam," -> "Sam").
std::string display_text(std::string_view raw) {
    size_t b = 0, e = raw.size();
    while (b < e && !is_word_byte(static_cast<unsigned char>(raw[b]))) ++b;
    while (e > b && !is_word_byte(static_cast<unsigned char>(raw[e - 1]))) --e;
    return std::string(raw.substr(b, e - b));
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// A recogniser word is one word; a hand-made or imported one may hold spaces or control
// bytes ("call  sam\n"): each part is a word of its own, said at the same time.
std::vector<std::string_view> parts_of(std::string_view word) {
    std::vector<std::string_view> parts;
    size_t b = 0;
    for (size_t i = 0; i <= word.size(); ++i) {
        if (i < word.size() && static_cast<unsigned char>(word[i]) > ' ') continue;
        if (i > b) parts.push_back(word.substr(b, i - b));
        b = i + 1;
    }
    return parts;
}

std::vector<Token> tokens_of(const Transcript& t) {
    std::vector<Token> out;
    double last_end = 0;
    bool filled = false;
    for (const Word& w : t.words) {
        for (std::string_view part : parts_of(w.word)) {
            std::string key = lexicon::normalize_word(part);
            if (key.empty()) continue;
            if (w.filler || lexicon::is_filler_word(key)) {
                filled = true;
                continue;
            }
            std::string text = display_text(part);
            if (lower(text) != key) text = key;  // a markup or variant spelling: the rule's form
            const bool first = out.empty();
            const double gap = first ? 0 : std::max(0.0, w.start_s - last_end);
            out.push_back(
                {std::move(text), std::move(key), w.start_s, w.end_s, gap, filled && !first});
            last_end = std::max(w.end_s, w.start_s);
            filled = false;
        }
    }
    return out;
}

// A silence that cuts. Times are sums of frame counts in floating point: a gap within a
// microsecond of the threshold is the threshold.
bool is_pause(const Token& t, const PromptRules& rules) {
    return t.gap_before_s >= rules.pause_s - 1e-6;
}

// The number of words of the cue phrase starting at i ("then", "after that", "and then",
// "and after that"), 0 when none starts there.
size_t cue_length(const std::vector<Token>& tk, size_t i) {
    // (std::string_view on both arms: a std::string arm would make the result a temporary.)
    auto key = [&](size_t j) {
        return j < tk.size() ? std::string_view(tk[j].key) : std::string_view();
    };
    size_t n = 0;
    if (key(i) == "and") {
        n = 1;
        ++i;
    }
    if (in(kCues, key(i))) return n + 1;
    if (key(i) == "after" && key(i + 1) == "that") return n + 2;
    return 0;
}

bool time_follows(const std::vector<Token>& tk, size_t cue_end) {
    return cue_end < tk.size() && in(kTimeWords, tk[cue_end].key);
}

// "if it fails then call me", "and when it is done then ...": the piece's clause began with
// a conditional (within its first words, after any cue or discourse words).
bool opens_conditional(const Piece& p) {
    for (size_t k = 0; k < p.tokens.size() && k < 3; ++k)
        if (in(kConditionals, p.tokens[k].key)) return true;
    return false;
}

// "montreal forced um uh forced aligner": after a filled pause the speaker says the last
// words again and goes on. Such a piece is the same sentence restarted: it joins the piece
// before it without the repeat (an unfilled pause is a real boundary: "call Sam. Sam has ...").
bool restarts(const Piece& before, const Piece& p) {
    if (p.opened != Opened::pause || p.tokens.empty() || !p.tokens.front().filled_before)
        return false;
    for (size_t n = std::min<size_t>(4, std::min(before.tokens.size(), p.tokens.size())); n >= 1;
         --n) {
        bool same = true;
        for (size_t k = 0; k < n && same; ++k)
            same = before.tokens[before.tokens.size() - n + k].key == p.tokens[k].key;
        if (same) return true;
    }
    return false;
}

// Does the cue phrase tk[i, i+len) open a new instruction inside the current piece?
bool cue_cuts(const std::vector<Token>& tk, size_t i, size_t len, const Piece& current,
              const PromptRules& rules) {
    const size_t end = i + len;
    // A cue with nothing after it before the next pause ends its sentence: "see you then".
    if (end >= tk.size() || is_pause(tk[end], rules)) return false;
    if (current.tokens.empty()) return false;  // already at a piece's start: just dropped
    if (in(kBinders, current.tokens.back().key)) return false;
    const std::string_view last_cue = tk[end - 1].key;
    if (in(kOrdinalCues, last_cue) && time_follows(tk, end)) return false;
    if (last_cue == "then" && opens_conditional(current)) return false;
    return true;
}

std::vector<Piece> cut_pieces(const std::vector<Token>& tk, const PromptRules& rules) {
    std::vector<Piece> pieces(1);
    for (size_t i = 0; i < tk.size();) {
        const size_t cue = cue_length(tk, i);
        if (i > 0 && is_pause(tk[i], rules)) {
            pieces.push_back({Opened::pause, {}});
        } else if (cue && cue_cuts(tk, i, cue, pieces.back(), rules)) {
            pieces.push_back({Opened::cue, {}});
        }
        // A cue phrase goes into its piece whole, so that "and then" is not cut again before
        // "then"; the clean-up drops it from the front.
        pieces.back().tokens.push_back(tk[i++]);
        for (size_t k = 1; k < cue && i < tk.size() && !is_pause(tk[i], rules); ++k)
            pieces.back().tokens.push_back(tk[i++]);
    }
    return pieces;
}

// Restarted pieces joined to the piece they restart; the repeat itself goes with the other
// repetitions (without_repeats).
std::vector<Piece> join_restarts(std::vector<Piece> pieces) {
    std::vector<Piece> out;
    for (Piece& p : pieces) {
        if (!out.empty() && restarts(out.back(), p)) {
            out.back().tokens.insert(out.back().tokens.end(), p.tokens.begin(), p.tokens.end());
        } else {
            out.push_back(std::move(p));
        }
    }
    return out;
}

bool same_keys(const std::vector<Token>& out, const std::vector<Token>& in, size_t at, size_t n) {
    if (out.size() < n || at + n > in.size()) return false;
    for (size_t k = 0; k < n; ++k)
        if (out[out.size() - n + k].key != in[at + k].key) return false;
    return true;
}

// "i i need" -> "i need", "we should we should call" -> "we should call": a run of 1-4 words
// said again at once is a false start; the repeat goes, longest match first.
std::vector<Token> without_repeats(const std::vector<Token>& in) {
    std::vector<Token> out;
    for (size_t i = 0; i < in.size();) {
        size_t skipped = 0;
        for (size_t n = 4; n >= 1 && !skipped; --n)
            if (same_keys(out, in, i, n)) skipped = n;
        if (skipped) {
            i += skipped;
        } else {
            out.push_back(in[i++]);
        }
    }
    return out;
}

void drop_leading(std::vector<Token>& tk) {
    size_t b = 0;
    for (;;) {
        const std::string_view k = b < tk.size() ? std::string_view(tk[b].key) : "";
        const std::string_view next = b + 1 < tk.size() ? std::string_view(tk[b + 1].key) : "";
        if (in(kOrdinalCues, k) && b + 1 < tk.size() && in(kTimeWords, next)) break;
        if (k == "after" && next == "that") {
            b += 2;
        } else if (k == "of" && next == "all" && b > 0 && in(kOrdinalCues, tk[b - 1].key)) {
            b += 2;  // "first of all"
        } else if (in(kCues, k) || in(kLeadingDiscourse, k)) {
            b += 1;
        } else {
            break;
        }
    }
    tk.erase(tk.begin(), tk.begin() + static_cast<std::ptrdiff_t>(std::min(b, tk.size())));
}

// The end of a prompt: a closing "thanks" / "thank you", and a dangling "and" or "and then"
// (the next instruction's cue, said before the pause that cut it) go.
void drop_trailing(std::vector<Token>& tk) {
    auto key = [&](size_t from_end) -> std::string_view {
        return from_end < tk.size() ? std::string_view(tk[tk.size() - 1 - from_end].key) : "";
    };
    if (key(0) == "thanks") {
        tk.pop_back();
    } else if (key(1) == "thank" && key(0) == "you") {
        tk.resize(tk.size() - 2);
    } else if (key(0) == "and") {
        tk.pop_back();
    } else if (key(1) == "and" && in(kCues, key(0))) {
        tk.resize(tk.size() - 2);
    }
}

bool only_discourse(const std::vector<Token>& tk) {
    return std::all_of(tk.begin(), tk.end(),
                       [](const Token& t) { return in(kDiscourseOnly, t.key); });
}

void append(std::vector<Token>& to, const std::vector<Token>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

// Empty pieces go; a short one joins the piece before it across the pause that cut it (or,
// first of all, the piece after it when a pause opened that one), or goes if it is only
// discourse words. A short piece a cue word opened stays.
std::vector<Piece> settle_leftovers(std::vector<Piece> pieces, const PromptRules& rules) {
    std::vector<Piece> out;
    for (size_t i = 0; i < pieces.size(); ++i) {
        Piece& p = pieces[i];
        if (p.tokens.empty()) continue;
        if (p.tokens.size() >= rules.min_words || p.opened == Opened::cue) {
            out.push_back(std::move(p));
            continue;
        }
        if (only_discourse(p.tokens)) continue;
        if (!out.empty()) {
            append(out.back().tokens, p.tokens);
        } else if (i + 1 < pieces.size() && pieces[i + 1].opened == Opened::pause &&
                   !pieces[i + 1].tokens.empty()) {
            p.tokens.insert(p.tokens.end(), pieces[i + 1].tokens.begin(),
                            pieces[i + 1].tokens.end());
            pieces[i + 1] = std::move(p);  // treated again as the next piece
        } else {
            out.push_back(std::move(p));
        }
    }
    return out;
}

bool is_first_person(std::string_view key) {
    return key == "i" || key == "i'm" || key == "i'll" || key == "i've" || key == "i'd";
}

std::string render(const std::vector<Token>& tk) {
    std::string s;
    for (const Token& t : tk) {
        if (!s.empty()) s += ' ';
        std::string w = t.text;
        if (is_first_person(t.key)) w[0] = 'I';
        s += w;
    }
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

bool utf8_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

}  // namespace

std::vector<Prompt> split_prompt_spans(const Transcript& t, const PromptRules& rules) {
    std::vector<Piece> pieces = join_restarts(cut_pieces(tokens_of(t), rules));
    for (Piece& p : pieces) {
        p.tokens = without_repeats(p.tokens);
        drop_leading(p.tokens);
        drop_trailing(p.tokens);
    }
    std::vector<Prompt> prompts;
    for (const Piece& p : settle_leftovers(std::move(pieces), rules))
        prompts.push_back({render(p.tokens), p.tokens.front().start_s, p.tokens.back().end_s});
    return prompts;
}

std::vector<std::string> split_prompts(const Transcript& t, const PromptRules& rules) {
    std::vector<std::string> out;
    for (Prompt& p : split_prompt_spans(t, rules)) out.push_back(std::move(p.text));
    return out;
}

namespace {

// The longest prefix of `p` of at most `max` characters that ends at a word boundary (before a
// space), or, when the first word alone is longer, its first `max` characters.
std::string_view head_of(std::string_view p, size_t max) {
    size_t chars = 0;
    size_t last_space = std::string::npos;  // a space with at most `max` characters before it
    for (size_t i = 0; i < p.size(); ++i) {
        if (utf8_continuation(static_cast<unsigned char>(p[i]))) continue;
        if (chars == max) {
            // One character too many: cut at the last word boundary, or inside the first word.
            return p.substr(0, last_space != std::string::npos && last_space > 0 ? last_space : i);
        }
        if (p[i] == ' ') last_space = i;
        ++chars;
    }
    return p;
}

}  // namespace

std::string memo_title(const std::vector<std::string>& prompts) {
    return prompts.empty() ? "" : std::string(head_of(prompts.front(), kMemoTitleMaxChars));
}

std::vector<std::string> fit_prompts(const std::vector<std::string>& prompts, size_t max_chars,
                                     size_t max_count) {
    std::vector<std::string> out;
    for (const std::string& p : prompts) {
        std::string_view rest = p;
        while (!rest.empty() && out.size() < max_count) {
            const std::string_view piece = head_of(rest, max_chars);
            std::string s(piece);
            if (s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
            out.push_back(std::move(s));
            rest.remove_prefix(piece.size());
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        }
    }
    return out;
}

}  // namespace speech
