// UTF-8, checked and counted in one place: JSON, form fields, query parameters, passwords and
// log escaping all use these, and every text limit counts code points (characters), never
// bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace core {

// Length of the well-formed UTF-8 sequence at s[i] (i < s.size()), or 0 if there is none
// (Unicode 15, table 3-7: this refuses overlongs, surrogates, and code points above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i);
// Offset of the first byte that starts no well-formed sequence, or npos.
size_t first_invalid_utf8(std::string_view s);
// True if s is valid UTF-8.
bool valid_utf8(std::string_view s);
// Number of code points (characters) in valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace core
