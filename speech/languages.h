// A session's `language`: the name of a directory under speech.model_root that holds a
// pocketsphinx model. The rule is here once, for the API (uploads), the worker (which model a
// job loads) and the live daemon (?lang= of /ws/transcribe).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace speech {

// What a session or a stream gets when it names no language.
inline constexpr const char kDefaultLanguage[] = "en-us";

// Installed languages, e.g. {"en-us"}, sorted: the directories of model_root with a model.
std::vector<std::string> installed_languages(
    const std::string& model_root = "/usr/share/pocketsphinx/model");

// The model directory of `language` if it is one of installed_languages(model_root) (so a
// name, never a path like "../x"), else nullopt.
std::optional<std::string> installed_model_dir(const std::string& model_root,
                                               const std::string& language);

// installed_model_dir for a request's field: throws core::ApiError 422 on "language", listing
// the installed languages, when it is not installed.
std::string require_installed(const std::string& model_root, const std::string& language);

}  // namespace speech
