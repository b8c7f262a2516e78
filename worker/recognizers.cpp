// One recorded recognizer per language, loaded lazily (worker/recognizers.h).
#include "worker/recognizers.h"

#include <algorithm>

#include "core/log.h"
#include "speech/languages.h"

namespace worker {

Recognizers::Recognizers(std::string model_root) : model_root_(std::move(model_root)) {
    if (speech::installed_model_dir(model_root_, speech::kDefaultLanguage)) {
        get(speech::kDefaultLanguage);
    } else {
        core::log_warn(std::string("worker: ") + speech::kDefaultLanguage +
                       " is not installed under " + model_root_);
    }
}

speech::Recognizer& Recognizers::get(const std::string& language) {
    auto it = std::find_if(loaded_.begin(), loaded_.end(),
                           [&](const Loaded& l) { return l.language == language; });
    if (it != loaded_.end()) {
        std::rotate(it, it + 1, loaded_.end());  // now the most recently used
        return *loaded_.back().recognizer;
    }
    const auto dir = speech::installed_model_dir(model_root_, language);
    if (!dir) throw LanguageNotInstalled(language);
    // Unloaded before the next one loads: never more than kMaxLoaded models at once.
    if (loaded_.size() >= kMaxLoaded) loaded_.erase(loaded_.begin());
    speech::RecognizerConfig rc;
    rc.model_dir = *dir;
    loaded_.push_back({language, std::make_unique<speech::Recognizer>(rc)});
    core::log_info("worker: loaded the " + language + " model");
    return *loaded_.back().recognizer;
}

}  // namespace worker
