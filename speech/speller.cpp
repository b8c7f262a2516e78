#include "speech/speller.h"

#include <hunspell.h>
#include <unistd.h>

namespace speech::interview {

namespace {

// hunspell opens its files itself and, when one is missing, prints to stderr and returns a
// handle that calls every word wrong: check first so that case reads as "not checked".
bool readable(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), R_OK) == 0;
}

// Words longer than this are not words (hunspell also refuses them) and would be slow.
constexpr size_t kMaxWordBytes = 100;

}  // namespace

Speller::Speller(const std::string& aff_path, const std::string& dic_path) {
    if (readable(aff_path) && readable(dic_path))
        handle_ = Hunspell_create(aff_path.c_str(), dic_path.c_str());
}

Speller::~Speller() {
    if (handle_) Hunspell_destroy(handle_);
}

std::optional<bool> Speller::correct(std::string_view word) const {
    if (!handle_ || word.empty() || word.size() > kMaxWordBytes) return std::nullopt;
    const std::string w(word);  // hunspell wants a NUL-terminated string
    std::lock_guard lock(mu_);
    return Hunspell_spell(handle_, w.c_str()) != 0;
}

std::vector<std::string> Speller::suggest(std::string_view word, size_t limit) const {
    std::vector<std::string> out;
    if (!handle_ || word.empty() || word.size() > kMaxWordBytes || limit == 0) return out;
    const std::string w(word);
    std::lock_guard lock(mu_);
    char** list = nullptr;
    const int n = Hunspell_suggest(handle_, &list, w.c_str());
    for (int i = 0; i < n && out.size() < limit; ++i) out.emplace_back(list[i]);
    if (list) Hunspell_free_list(handle_, &list, n);
    return out;
}

}  // namespace speech::interview
