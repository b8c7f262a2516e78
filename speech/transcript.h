// What recognition produces: words with absolute times and confidences.
#pragma once

#include <string>
#include <vector>

namespace speech {

struct Word {
    std::string word;  // lower case; fillers as "um", "uh", "er", "ah", "hmm"
    double start_s = 0;
    double end_s = 0;
    double confidence = 0;  // 0..1, from the decoder's posterior
    bool filler = false;
};

struct Transcript {
    std::vector<Word> words;
    std::string text;    // words joined by single spaces
    std::string engine;  // e.g. "pocketsphinx-5prealpha en-us"
};

}  // namespace speech
