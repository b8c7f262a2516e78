// The memo splitter (speech::split_prompt_spans) over transcripts on stdin, for
// bench/prompt_split.py. Input: one word per line, "word<TAB>start_s<TAB>end_s<TAB>filler(0|1)",
// memos separated by a line "#memo NAME". Output: one prompt per line,
// "NAME<TAB>start_s<TAB>end_s<TAB>text". Usage: prompt_split_tool [PAUSE_S]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "speech/prompts.h"

namespace {

void flush(const std::string& name, const speech::Transcript& t, const speech::PromptRules& r) {
    if (name.empty()) return;
    for (const auto& p : speech::split_prompt_spans(t, r))
        std::printf("%s\t%.3f\t%.3f\t%s\n", name.c_str(), p.start_s, p.end_s, p.text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    speech::PromptRules rules;
    if (argc > 1) rules.pause_s = std::strtod(argv[1], nullptr);
    std::string line, name;
    speech::Transcript t;
    while (std::getline(std::cin, line)) {
        if (line.rfind("#memo ", 0) == 0) {
            flush(name, t, rules);
            name = line.substr(6);
            t = {};
            continue;
        }
        std::istringstream in(line);
        speech::Word w;
        int filler = 0;
        if (!std::getline(in, w.word, '\t') || !(in >> w.start_s >> w.end_s >> filler)) continue;
        w.filler = filler != 0;
        w.confidence = 1;
        t.words.push_back(w);
    }
    flush(name, t, rules);
    return 0;
}
