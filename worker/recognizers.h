// The recorded recognizers of one decoder process, one per language: a session is transcribed
// with its own language's model (speech/languages.h). Each is loaded on first use (≈125 MB, a
// few seconds) and kept for the next job; at most kMaxLoaded are, the least recently used one
// is unloaded first. en-us, the default, is loaded up front: the first upload should not wait.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "speech/recognizer.h"

namespace worker {

// The session's language is not installed (any more): the job cannot succeed.
class LanguageNotInstalled : public std::runtime_error {
  public:
    explicit LanguageNotInstalled(const std::string& language)
        : std::runtime_error("language " + language + " is not installed") {}
};

class Recognizers {
  public:
    // Two models stay loaded: a second language does not reload at every job, and a decoder
    // process holds at most twice the memory of the common case (en-us only).
    static constexpr size_t kMaxLoaded = 2;

    explicit Recognizers(std::string model_root);
    // Throws LanguageNotInstalled, or std::runtime_error when the model does not load.
    speech::Recognizer& get(const std::string& language);
    size_t loaded() const { return loaded_.size(); }

  private:
    struct Loaded {
        std::string language;
        std::unique_ptr<speech::Recognizer> recognizer;
    };
    std::string model_root_;
    std::vector<Loaded> loaded_;  // the most recently used last
};

}  // namespace worker
