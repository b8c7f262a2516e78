// Spelling of typed interview answers with hunspell and Debian's en_US dictionary
// (hunspell-en-us). Voice answers need none: the recogniser only produces dictionary words.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct Hunhandle;

namespace speech::interview {

inline constexpr const char* kSpellerAff = "/usr/share/hunspell/en_US.aff";
inline constexpr const char* kSpellerDic = "/usr/share/hunspell/en_US.dic";

// Owns one Hunhandle. A dictionary that cannot be opened leaves the speller "not checking":
// ok() is false and correct() answers nullopt, so a missing package degrades the feedback
// instead of failing the answer. Safe to share between threads (calls are serialised: hunspell
// keeps scratch state in the handle).
class Speller {
  public:
    explicit Speller(const std::string& aff_path = kSpellerAff,
                     const std::string& dic_path = kSpellerDic);
    ~Speller();
    Speller(const Speller&) = delete;
    Speller& operator=(const Speller&) = delete;

    bool ok() const { return handle_ != nullptr; }
    // Whether the word is spelt correctly; nullopt when nothing is checked (no dictionary).
    std::optional<bool> correct(std::string_view word) const;
    // Up to `limit` corrections, best first; empty when none or not checking.
    std::vector<std::string> suggest(std::string_view word, size_t limit = 3) const;

  private:
    Hunhandle* handle_ = nullptr;
    mutable std::mutex mu_;
};

}  // namespace speech::interview
