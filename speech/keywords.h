// Keyphrases of a text (a pasted job description) by TF-IDF against a background corpus of
// general job-ad and business prose shipped with the binary (speech/data/background_corpus.txt,
// compiled in): words that every job ad uses ("experience", "team", "skills") score low, the
// words this description keeps coming back to score high. POST /questions/generate fills its
// templates with them. Pure functions: no database, no state but the parsed corpus.
// docs/analysis.md ("Generated questions") gives the same rules for users.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace speech::keywords {

// A word as the text spelled it and its lower-case form. `boundary` is true when a phrase may
// not continue across the gap before it (punctuation, a bullet, a line break).
struct Token {
    std::string surface;  // as written ("PostgreSQL", "Node.js", "C++")
    std::string lower;    // ASCII lower case
    bool boundary = false;
};

// Words of UTF-8 text: ASCII letters and digits, any valid multi-byte UTF-8 character
// (accented letters), with the joiners technical words use inside a word ("node.js",
// "cross-functional", "ci/cd" split; "c++" and "c#" keep their '+'/'#'). A byte that is not
// valid UTF-8 separates words like a space. Words longer than 40 bytes (URLs, hashes) are
// dropped; an English possessive "'s" is removed.
std::vector<Token> tokenize(std::string_view text);

// Snowball English stem of a lower-case word ("pipelines" → "pipelin").
std::string stem(std::string_view lower_word);

// Function words and the generic words of job ads that are never a skill ("years", "including").
bool is_stop_word(std::string_view lower_word);

// Document frequencies of stems over the background corpus, one document per paragraph.
class Background {
  public:
    explicit Background(std::string_view corpus);
    size_t documents() const { return documents_; }
    size_t df(const std::string& stem) const;
    // Smoothed inverse document frequency: ln((N + 1) / (df + 1)) + 1, so a stem the corpus
    // never uses weighs ln(N + 1) + 1 and one in every paragraph weighs 1.
    double idf(const std::string& stem) const;
    // A stem in more than a tenth of the paragraphs: generic job-ad language, never the edge
    // of a keyphrase ("build" in "build data pipelines").
    bool general(const std::string& stem) const;

  private:
    size_t documents_ = 0;
    std::unordered_map<std::string, size_t> df_;
};

// The shipped corpus, parsed once per process.
const Background& default_background();
std::string_view background_corpus_text();

struct Keyphrase {
    std::string text;                // display form: as the text spelled it, "data pipelines"
    std::vector<std::string> words;  // its words, lower case
    std::vector<std::string> stems;  // their stems
    int count = 0;                   // occurrences of the phrase in the text
    double score = 0;
};

// The k best keyphrases (1-3 words), best first. Candidates are the n-grams of runs of content
// words (no stop word, number or punctuation inside) with no generic word at either end, not
// starting with a bullet's verb ("automate", "writes") nor ending with an adjective that
// follows its noun ("healthy"). Each
// scores (1 + ln count) × mean idf of its stems × (1 + 0.25 × (n - 1)) for n words. Picked best
// first: a candidate whose stems all lie inside a pick is skipped; one that contains a pick
// replaces it when it holds more than half of the pick's occurrences ("data pipelines" twice
// replaces "pipelines" three times, once does not). The display text is the most frequent
// spelling (a word Capitalised only at a clause start counts as lower case). Ties go to the phrase
// seen first. At most kMaxTextBytes of the text are read.
inline constexpr size_t kMaxTextBytes = 100000;
std::vector<Keyphrase> extract(std::string_view text, size_t k,
                               const Background& background = default_background());

}  // namespace speech::keywords
