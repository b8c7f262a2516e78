// libFuzzer target for speech/prompts (the memo splitter and the title rule). The words come
// from the bytes: each record is a flags byte, a gap byte (tenths of a second of silence
// before it, so pauses land on both sides of the threshold), a duration byte, then the word
// up to a ';' (any bytes, invalid UTF-8 included). Invariants: no crash; every prompt is
// non-empty, trimmed, single-spaced and holds no filler word; spans are ordered; the title is
// a prefix of the first prompt, at most 80 characters and cut at a character boundary;
// fit_prompts keeps its bounds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "speech/prompts.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_prompts invariant broken: %s\n", what);
    std::abort();
}

speech::Transcript words_of(const uint8_t* data, size_t size) {
    speech::Transcript t;
    double at = 0;
    size_t i = 0;
    while (i + 3 <= size && t.words.size() < 2000) {
        const uint8_t flags = data[i], gap = data[i + 1], len = data[i + 2];
        i += 3;
        std::string w;
        while (i < size && data[i] != ';') w += static_cast<char>(data[i++]);
        ++i;  // the ';'
        at += gap / 10.0;
        // Bit 1: times out of order (a recogniser glitch), which must not break anything.
        const double start = (flags & 2) ? at - 1 : at;
        const double end = start + len / 100.0;
        t.words.push_back({w, start, end, 0.5, (flags & 1) != 0});
        at = end;
    }
    return t;
}

size_t chars(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool is_filler(std::string_view w) {
    for (std::string_view f : {"um", "umm", "uhm", "uh", "er", "erm", "ah", "hmm", "hm"})
        if (w == f) return true;
    return false;
}

void check_prompt(const std::string& p) {
    require(!p.empty(), "an empty prompt");
    require(p.front() != ' ' && p.back() != ' ', "a prompt not trimmed");
    require(p.find("  ") == std::string::npos, "two spaces in a prompt");
    size_t b = 0;
    while (b <= p.size()) {
        size_t e = p.find(' ', b);
        if (e == std::string::npos) e = p.size();
        std::string w = p.substr(b, e - b);
        for (char& c : w)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        require(!is_filler(w), "a filler in a prompt");
        b = e + 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const speech::Transcript t = words_of(data, size);
    const std::vector<speech::Prompt> spans = speech::split_prompt_spans(t);
    std::vector<std::string> prompts;
    for (const auto& p : spans) {
        check_prompt(p.text);
        prompts.push_back(p.text);
    }
    require(speech::split_prompts(t) == prompts, "split_prompts and its spans disagree");
    const std::string title = speech::memo_title(prompts);
    require(prompts.empty() == title.empty(), "a title without prompts, or none with them");
    if (!prompts.empty()) {
        require(prompts[0].compare(0, title.size(), title) == 0, "the title is not a prefix");
        require(chars(title) <= speech::kMemoTitleMaxChars, "a title over 80 characters");
        require(title.size() == prompts[0].size() ||
                    (static_cast<unsigned char>(prompts[0][title.size()]) & 0xC0) != 0x80,
                "a title cut inside a character");
    }
    // The store's bounds, small enough to cut often: every piece non-empty and within them.
    const std::vector<std::string> fitted = speech::fit_prompts(prompts, 7, 3);
    require(fitted.size() <= 3, "more prompts than the bound");
    for (const std::string& p : fitted) {
        require(!p.empty() && p.front() != ' ', "an empty or untrimmed fitted prompt");
        require(chars(p) <= 7, "a fitted prompt over its bound");
    }
    return 0;
}
