// libFuzzer target for speech/keywords (the job description's keyphrases) and the templates
// they fill. The bytes are the description as pasted: any bytes, invalid UTF-8 included.
// Invariants: no crash; every token is non-empty, at most 40 bytes plus its '+'/'#' tail, and
// valid UTF-8; at most k keyphrases, each of 1-3 words, with a non-empty display text, scores
// best first; no keyphrase's stems all inside another's; the generated questions are distinct
// and never hold an unfilled slot.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "speech/keywords.h"
#include "speech/question_templates.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_keywords invariant broken: %s\n", what);
    std::abort();
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

bool inside(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const std::string& x : a) {
        bool found = false;
        for (const std::string& y : b) found |= x == y;
        if (!found) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const speech::keywords::Token& t : speech::keywords::tokenize(text)) {
        require(!t.surface.empty() && t.surface.size() == t.lower.size(), "token size");
        require(t.surface.size() <= 80, "token length");
        require(valid_utf8(t.surface), "token is valid UTF-8");
    }
    const size_t k = size % 12;
    std::vector<speech::keywords::Keyphrase> ks = speech::keywords::extract(text, k);
    require(ks.size() <= k, "at most k");
    for (size_t i = 0; i < ks.size(); ++i) {
        require(!ks[i].text.empty() && valid_utf8(ks[i].text), "display text");
        require(!ks[i].stems.empty() && ks[i].stems.size() <= 3, "1-3 words");
        require(ks[i].words.size() == ks[i].stems.size(), "words and stems");
        require(ks[i].count >= 1, "count");
        if (i > 0) require(ks[i - 1].score >= ks[i].score, "best first");
        for (size_t j = 0; j < ks.size(); ++j)
            if (i != j) require(!inside(ks[i].stems, ks[j].stems), "no phrase inside another");
    }
    speech::questions::Request r;
    r.role = "Fuzz Role";
    r.industry = "Fuzzing";
    r.difficulty = (size & 1) ? "hard" : "easy";
    r.count = 20;
    for (const auto& kp : ks) r.keywords.push_back(speech::questions::keyword_from(kp.text));
    std::set<std::string> seen;
    for (const auto& g : speech::questions::generate(r)) {
        require(seen.insert(speech::questions::normalise(g.text)).second, "distinct questions");
        require(g.text.find("{kw") == std::string::npos, "slots filled");
        require(g.key_points.size() >= 2 && g.key_points.size() <= 4, "2-4 key points");
    }
    return 0;
}
