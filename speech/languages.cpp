// Which languages are installed (speech/languages.h).
#include "speech/languages.h"

#include <algorithm>
#include <filesystem>

#include "core/problem.h"
#include "speech/decoder_config.h"

namespace speech {

namespace fs = std::filesystem;

std::vector<std::string> installed_languages(const std::string& model_root) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(model_root, ec)) {
        if (find_model(e.path())) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<std::string> installed_model_dir(const std::string& model_root,
                                               const std::string& language) {
    const auto installed = installed_languages(model_root);
    if (std::find(installed.begin(), installed.end(), language) == installed.end())
        return std::nullopt;
    return model_root + "/" + language;
}

std::string require_installed(const std::string& model_root, const std::string& language) {
    if (auto dir = installed_model_dir(model_root, language)) return *dir;
    std::string list;
    for (const auto& l : installed_languages(model_root)) list += (list.empty() ? "" : ", ") + l;
    throw core::ApiError::unprocessable("language", "not installed; installed: " + list);
}

}  // namespace speech
