// libFuzzer target for speech/clinical_note: any words with any timings (gaps negative, huge,
// NaN-free but unordered), any bytes as words. The draft must not crash, and what it writes
// must come from the input: every section sentence is one of the rebuilt sentences.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "speech/clinical_note.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_clinical_note invariant broken: %s\n", what);
    std::abort();
}

// Input: words separated by spaces; the byte after each word sets the pause before the next
// (0..2.55 s, '!' marks a filler).
std::vector<speech::Word> words_of(const uint8_t* data, size_t size) {
    std::vector<speech::Word> out;
    double t = 0;
    std::string cur;
    for (size_t i = 0; i < size; ++i) {
        char c = static_cast<char>(data[i]);
        if (c != ' ') {
            cur += c;
            continue;
        }
        if (cur.empty()) continue;
        double gap = i + 1 < size ? data[i + 1] / 100.0 : 0.1;
        bool filler = !cur.empty() && cur[0] == '!';
        out.push_back({cur, t, t + 0.25, 0.9, filler});
        t += 0.25 + gap;
        cur.clear();
    }
    if (!cur.empty()) out.push_back({cur, t, t + 0.25, 0.9, false});
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 1 << 14) return 0;
    speech::ClinicalNote n = speech::draft_clinical_note(words_of(data, size));
    require(n.placements.size() == n.sentences.size(), "one placement per sentence");
    require(n.scores.size() == n.sentences.size(), "one score per sentence");
    size_t section_bytes =
        n.subjective.size() + n.objective.size() + n.assessment.size() + n.plan.size();
    size_t sentence_bytes = 0;
    for (const auto& s : n.sentences) {
        require(!s.text.empty(), "an empty sentence");
        sentence_bytes += s.text.size() + 2;  // ". " added per sentence at most
    }
    require(section_bytes <= sentence_bytes, "sections hold more than the sentences said");
    require(n.summary.size() <= sentence_bytes, "the summary holds more than was said");
    return 0;
}
