// JSON in (strict parsing over cJSON 1.7.15, ObjectReader) and out (JsonWriter).
#include "core/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/problem.h"

namespace core {
namespace {

constexpr int kMaxDepth = 64;
// JavaScript's Number.MAX_SAFE_INTEGER: beyond it a client's double cannot hold every integer.
constexpr int64_t kMaxSafeInt = (int64_t{1} << 53) - 1;
// Longest key echoed back in an error: the key is the client's, and it may be 60 KiB long.
constexpr size_t kMaxEchoedKeyBytes = 64;

// ----------------------------------------------------------------------------------------------
// Pre-scan: one pass over the raw text, before cJSON sees it, for what cJSON would accept or
// mangle. cJSON still checks the grammar; this checks the bytes.

[[noreturn]] void throw_not_json(const std::string& what, size_t offset) {
    throw ApiError::bad_request("body is not valid JSON: " + what + " (byte " +
                                std::to_string(offset) + ")");
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

class PreScan {
  public:
    explicit PreScan(std::string_view text) : t_(text) {}

    // Throws 400 on a problem; returns every number literal in document order.
    std::vector<std::string_view> run();

  private:
    char peek(size_t ahead = 0) const { return pos_ + ahead < t_.size() ? t_[pos_ + ahead] : '\0'; }
    void string();
    void escape();
    unsigned hex4(size_t at) const;
    void number();
    void digits(const char* what);

    std::string_view t_;
    size_t pos_ = 0;
    std::vector<std::string_view> numbers_;
};

std::vector<std::string_view> PreScan::run() {
    int depth = 0;
    while (pos_ < t_.size()) {
        const char c = t_[pos_];
        if (c == '"') {
            string();
            continue;
        }
        if (c == '-' || is_digit(c)) {
            number();
            continue;
        }
        if (c == '[' || c == '{') {
            // Checked here, before cJSON recurses once per level (its own limit is 1000).
            if (++depth > kMaxDepth) throw_not_json("nesting deeper than 64 levels", pos_);
        } else if (c == ']' || c == '}') {
            if (--depth < 0) throw_not_json("unbalanced brackets", pos_);
        } else if (!std::strchr(" \t\n\r:,truefalsn", c) || c == '\0') {
            // cJSON treats every byte <= 0x20 as whitespace and skips a BOM; JSON does not.
            // The letters are those of true/false/null, whose spelling cJSON checks.
            throw_not_json("unexpected character", pos_);
        }
        ++pos_;
    }
    return std::move(numbers_);
}

// pos_ is at the opening quote; leaves pos_ after the closing one. The text is known to be
// valid UTF-8, so bytes >= 0x80 need no look here.
void PreScan::string() {
    const size_t start = pos_++;
    for (;;) {
        if (pos_ >= t_.size()) throw_not_json("unterminated string", start);
        const auto c = static_cast<unsigned char>(t_[pos_]);
        if (c == '"') break;
        if (c == '\\') {
            escape();
            continue;
        }
        // Includes a raw NUL, which cJSON would copy into a C string and so truncate.
        if (c < 0x20) throw_not_json("control character in a string", pos_);
        ++pos_;
    }
    ++pos_;
}

// pos_ is at a backslash. Walking escapes pairwise is what makes `\\u0000` (a backslash, then
// the text u0000) legal while `\u0000` is not.
void PreScan::escape() {
    const size_t at = pos_;
    const char e = peek(1);
    if (e && std::strchr("\"\\/bfnrt", e)) {
        pos_ += 2;
        return;
    }
    if (e != 'u') throw_not_json("invalid escape", at);
    const unsigned u = hex4(pos_ + 2);
    pos_ += 6;
    // cJSON decodes \u0000 and then keeps only the part of the string before it.
    if (u == 0) throw_not_json("\\u0000 in a string", at);
    if (u >= 0xDC00 && u <= 0xDFFF) throw_not_json("lone surrogate", at);
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (peek() != '\\' || peek(1) != 'u') throw_not_json("lone surrogate", at);
        const unsigned low = hex4(pos_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) throw_not_json("lone surrogate", at);
        pos_ += 6;
    }
}

unsigned PreScan::hex4(size_t at) const {
    unsigned u = 0;
    for (size_t k = 0; k < 4; ++k) {
        const int d = at + k < t_.size() ? hex_digit(t_[at + k]) : -1;
        if (d < 0) throw_not_json("invalid \\u escape", at - 2);
        u = u * 16 + static_cast<unsigned>(d);
    }
    return u;
}

// RFC 8259 number grammar. cJSON hands any run of [0-9+-.eE] to strtod, which takes 01, 1.
// and -01; refusing here keeps "what we accept" equal to "what JSON is".
void PreScan::number() {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
        ++pos_;
    } else {
        digits("invalid number");
    }
    if (peek() == '.') {
        ++pos_;
        digits("invalid number");
    }
    if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        if (peek() == '+' || peek() == '-') ++pos_;
        digits("invalid number");
    }
    if (peek() && std::strchr("0123456789+-.eE", peek())) throw_not_json("invalid number", start);
    numbers_.push_back(t_.substr(start, pos_ - start));
}

void PreScan::digits(const char* what) {
    if (!is_digit(peek())) throw_not_json(what, pos_);
    while (is_digit(peek())) ++pos_;
}

// ----------------------------------------------------------------------------------------------
// Post-walk over cJSON's tree: what needs the decoded values.

char lower_ascii(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
    }
    return true;
}

struct AsciiCaseHash {
    size_t operator()(std::string_view s) const {
        size_t h = 14695981039346656037u;  // FNV-1a
        for (const char c : s) {
            h = (h ^ static_cast<unsigned char>(lower_ascii(c))) * 1099511628211u;
        }
        return h;
    }
};

struct AsciiCaseEqual {
    bool operator()(std::string_view a, std::string_view b) const {
        return equal_ignoring_ascii_case(a, b);
    }
};

// A key short enough to echo in an error message, cut on a code point boundary.
std::string echoed_key(std::string_view key) {
    if (key.size() <= kMaxEchoedKeyBytes) return std::string(key);
    size_t cut = kMaxEchoedKeyBytes;
    while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
    return std::string(key.substr(0, cut)) + "\u2026";
}

// ApiError 400 shaped like ApiError::unprocessable: detail "field: message", errors[0] the pair.
ApiError field_bad_request(std::string_view field, std::string message) {
    ApiError e = ApiError::bad_request(std::string(field) + ": " + message, std::string(field));
    if (e.errors.empty()) e.errors.push_back({std::string(field), message});
    e.errors.front().message = std::move(message);
    return e;
}

ApiError duplicate_key(std::string_view key) {
    return field_bad_request(echoed_key(key), "duplicate key");
}

class TreeCheck {
  public:
    explicit TreeCheck(const std::vector<std::string_view>& numbers) : numbers_(numbers) {}
    void walk(cJSON* node);  // recursion is bounded: the pre-scan refused depth > 64
    void done() const;

  private:
    void check_number(cJSON* node);
    static void check_keys(const cJSON* object);

    const std::vector<std::string_view>& numbers_;
    size_t next_number_ = 0;
};

void TreeCheck::walk(cJSON* node) {
    if (cJSON_IsNumber(node)) check_number(node);
    if (cJSON_IsObject(node)) check_keys(node);
    for (cJSON* c = node->child; c; c = c->next) walk(c);
}

// cJSON keeps a number only as a double. The literal goes into the (otherwise unused)
// valuestring, so that optional_int can tell 9007199254740993 from ...992 and 1 from 1.0000...1;
// cJSON_Delete frees valuestring whatever the type.
void TreeCheck::check_number(cJSON* node) {
    if (next_number_ >= numbers_.size()) {
        throw std::logic_error("parse_json_strict: cJSON and the pre-scan disagree on numbers");
    }
    const std::string_view literal = numbers_[next_number_++];
    if (!std::isfinite(node->valuedouble)) {
        const std::string what = "number out of range";
        if (node->string) throw field_bad_request(echoed_key(node->string), what);
        throw ApiError::bad_request("body is not valid JSON: " + what);
    }
    auto* copy = static_cast<char*>(cJSON_malloc(literal.size() + 1));
    if (!copy) throw std::bad_alloc();
    std::memcpy(copy, literal.data(), literal.size());
    copy[literal.size()] = '\0';
    node->valuestring = copy;
}

// cJSON keeps duplicate keys and cJSON_GetObjectItem ignores ASCII case, so any two keys equal
// under ASCII case folding could be read differently by two lookups.
void TreeCheck::check_keys(const cJSON* object) {
    // Most objects are small: comparing pairs is cheaper than hashing them.
    constexpr int kPairwiseMax = 16;
    int count = 0;
    for (const cJSON* c = object->child; c && count <= kPairwiseMax; c = c->next) ++count;
    if (count <= kPairwiseMax) {
        for (const cJSON* c = object->child; c; c = c->next) {
            for (const cJSON* d = object->child; d != c; d = d->next) {
                if (equal_ignoring_ascii_case(c->string, d->string)) throw duplicate_key(c->string);
            }
        }
        return;
    }
    std::unordered_set<std::string_view, AsciiCaseHash, AsciiCaseEqual> seen;
    for (const cJSON* c = object->child; c; c = c->next) {
        if (!seen.insert(c->string).second) throw duplicate_key(c->string);
    }
}

void TreeCheck::done() const {
    if (next_number_ != numbers_.size()) {
        throw std::logic_error("parse_json_strict: cJSON and the pre-scan disagree on numbers");
    }
}

// ----------------------------------------------------------------------------------------------
// ObjectReader helpers

std::string read_string(const cJSON* v, const char* key, size_t min_chars, size_t max_chars) {
    if (!cJSON_IsString(v) || !v->valuestring) throw field_bad_request(key, "must be a string");
    const std::string_view s = v->valuestring;
    // Trees from parse_json_strict are valid already; this guards trees built any other way.
    if (!valid_utf8(s)) throw field_bad_request(key, "must be valid UTF-8");
    const size_t n = utf8_length(s);
    if (n < min_chars) {
        throw ApiError::unprocessable(
            key, min_chars == 1 ? "must not be empty"
                                : "must be at least " + std::to_string(min_chars) + " characters");
    }
    if (n > max_chars) {
        throw ApiError::unprocessable(
            key, "must be at most " + std::to_string(max_chars) + " characters");
    }
    return std::string(s);
}

std::string not_safe_integer() {
    return "must be an integer between -" + std::to_string(kMaxSafeInt) + " and " +
           std::to_string(kMaxSafeInt);
}

// The exact value of an integer literal; refuses fractions, exponents and -0.
int64_t integer_from_literal(std::string_view lit, const char* key) {
    if (lit.find_first_of(".eE") != std::string_view::npos) {
        throw field_bad_request(key, "must be an integer");
    }
    if (lit == "-0") throw field_bad_request(key, "must be an integer (-0 is not accepted)");
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(lit.data(), lit.data() + lit.size(), n);
    if (ec != std::errc() || end != lit.data() + lit.size() || n > kMaxSafeInt ||
        n < -kMaxSafeInt) {
        throw field_bad_request(key, not_safe_integer());
    }
    return n;
}

// The literal parse_json_strict kept, while it still says what valuedouble says (a caller may
// have set a new value since); nullptr otherwise. strtod is what cJSON used, so they agree.
const char* number_literal(const cJSON* v) {
    if (!v->valuestring) return nullptr;
    char* end = nullptr;
    const double d = std::strtod(v->valuestring, &end);
    return *end == '\0' && d == v->valuedouble ? v->valuestring : nullptr;
}

// For trees not made by parse_json_strict, which have no literal: only the double to go by.
int64_t integer_from_double(double d, const char* key) {
    if (!std::isfinite(d) || std::trunc(d) != d) throw field_bad_request(key, "must be an integer");
    if (d == 0 && std::signbit(d)) {
        throw field_bad_request(key, "must be an integer (-0 is not accepted)");
    }
    if (std::fabs(d) > static_cast<double>(kMaxSafeInt)) {
        throw field_bad_request(key, not_safe_integer());
    }
    return static_cast<int64_t>(d);
}

// ----------------------------------------------------------------------------------------------
// Writer helpers

constexpr char kHex[] = "0123456789abcdef";

// Bytes that may be copied into a JSON string literal unchanged.
bool plain_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void append_escape(std::string& out, unsigned char c) {
    // The two-character escapes JSON has; other bytes below 0x20 become \u00XX.
    constexpr std::string_view kFrom = "\"\\\b\f\n\r\t";
    constexpr std::string_view kTo = "\"\\bfnrt";
    if (const size_t k = kFrom.find(static_cast<char>(c)); k != std::string_view::npos) {
        out += '\\';
        out += kTo[k];
        return;
    }
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
}

}  // namespace

// ----------------------------------------------------------------------------------------------

JsonPtr parse_json_strict(std::string_view text) {
    if (text.find_first_not_of(" \t\n\r") == std::string_view::npos) {
        throw ApiError::bad_request("body is empty; expected JSON");
    }
    // JSON text is UTF-8 (RFC 8259 §8.1); checking the whole text covers keys and strings.
    if (const size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
        throw ApiError::bad_request("body is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    }
    const std::vector<std::string_view> numbers = PreScan(text).run();

    // The length passed includes std::string's terminating NUL: with require_null_terminated,
    // cJSON refuses trailing bytes only if it can see that NUL.
    const std::string copy(text);
    const char* end = nullptr;  // on failure, about where cJSON gave up
    JsonPtr root(cJSON_ParseWithLengthOpts(copy.c_str(), copy.size() + 1, &end, 1));
    if (!root) {
        const bool inside = end && end >= copy.c_str() && end <= copy.c_str() + copy.size();
        throw_not_json("syntax error",
                       inside ? static_cast<size_t>(end - copy.c_str()) : copy.size());
    }

    TreeCheck check(numbers);
    check.walk(root.get());
    check.done();
    return root;
}

// ----------------------------------------------------------------------------------------------

ObjectReader::ObjectReader(const cJSON* root) : root_(root) {
    if (!cJSON_IsObject(root)) throw ApiError::bad_request("body must be a JSON object");
}

const cJSON* ObjectReader::find(const char* key) const {
    for (const cJSON* c = root_->child; c; c = c->next) {
        if (c->string && std::strcmp(c->string, key) == 0) return c;
    }
    return nullptr;
}

// has() marks the key as known too: a handler that looks for a key has taken notice of it.
bool ObjectReader::has(const char* key) const {
    known_.insert(key);
    return find(key) != nullptr;
}

std::string ObjectReader::required_string(const char* key, size_t min_chars, size_t max_chars) {
    known_.insert(key);
    const cJSON* v = find(key);
    // Absent is a field that is not acceptable (422); null is a value of the wrong type (400).
    if (!v) throw ApiError::unprocessable(key, "is required");
    return read_string(v, key, min_chars, max_chars);
}

std::optional<std::string> ObjectReader::optional_string(const char* key, size_t min_chars,
                                                         size_t max_chars) {
    known_.insert(key);
    const cJSON* v = find(key);
    if (!v || cJSON_IsNull(v)) return std::nullopt;
    return read_string(v, key, min_chars, max_chars);
}

std::optional<bool> ObjectReader::optional_bool(const char* key) {
    known_.insert(key);
    const cJSON* v = find(key);
    if (!v || cJSON_IsNull(v)) return std::nullopt;
    if (!cJSON_IsBool(v)) throw field_bad_request(key, "must be true or false");
    return cJSON_IsTrue(v);
}

std::optional<int64_t> ObjectReader::optional_int(const char* key, int64_t min, int64_t max) {
    known_.insert(key);
    const cJSON* v = find(key);
    if (!v || cJSON_IsNull(v)) return std::nullopt;
    if (!cJSON_IsNumber(v)) throw field_bad_request(key, "must be an integer");
    const char* literal = number_literal(v);
    const int64_t n =
        literal ? integer_from_literal(literal, key) : integer_from_double(v->valuedouble, key);
    if (n < min || n > max) {
        throw ApiError::unprocessable(
            key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return n;
}

namespace {
// The integer a JSON number holds, exactly, or 400/422 naming `name` (optional_int's rules).
int64_t bounded_integer(const cJSON* v, const char* name, int64_t min, int64_t max) {
    if (!cJSON_IsNumber(v)) throw field_bad_request(name, "must be an integer");
    const char* literal = number_literal(v);
    const int64_t n =
        literal ? integer_from_literal(literal, name) : integer_from_double(v->valuedouble, name);
    if (n < min || n > max) {
        throw ApiError::unprocessable(
            name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return n;
}
}  // namespace

std::optional<std::vector<std::string>> ObjectReader::optional_string_array(const char* key,
                                                                            size_t max_items,
                                                                            size_t min_chars,
                                                                            size_t max_chars) {
    known_.insert(key);
    const cJSON* v = find(key);
    if (!v || cJSON_IsNull(v)) return std::nullopt;
    if (!cJSON_IsArray(v)) throw field_bad_request(key, "must be an array");
    const size_t n = static_cast<size_t>(cJSON_GetArraySize(v));
    if (n > max_items) {
        throw ApiError::unprocessable(key,
                                      "must have at most " + std::to_string(max_items) + " items");
    }
    std::vector<std::string> out;
    out.reserve(n);
    for (const cJSON* item = v->child; item; item = item->next) {
        const std::string name = std::string(key) + "[" + std::to_string(out.size()) + "]";
        out.push_back(read_string(item, name.c_str(), min_chars, max_chars));
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, int64_t>>> ObjectReader::optional_int_object(
    const char* key, int64_t min, int64_t max) {
    known_.insert(key);
    const cJSON* v = find(key);
    if (!v || cJSON_IsNull(v)) return std::nullopt;
    if (!cJSON_IsObject(v)) throw field_bad_request(key, "must be an object");
    std::vector<std::pair<std::string, int64_t>> out;
    for (const cJSON* item = v->child; item; item = item->next) {
        const std::string name =
            std::string(key) + "." + echoed_key(item->string ? item->string : "");
        out.emplace_back(item->string ? item->string : "",
                         bounded_integer(item, name.c_str(), min, max));
    }
    return out;
}

void ObjectReader::finish() const {
    for (const cJSON* c = root_->child; c; c = c->next) {
        if (!c->string || known_.count(c->string) == 0) {
            throw field_bad_request(echoed_key(c->string ? c->string : ""), "unknown field");
        }
    }
}

// ----------------------------------------------------------------------------------------------

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    size_t i = 0;
    while (i < s.size()) {
        // Copy runs of plain ASCII in one go: most text is just that.
        size_t run = i;
        while (run < s.size() && plain_ascii(static_cast<unsigned char>(s[run]))) ++run;
        out.append(s.data() + i, run - i);
        i = run;
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            append_escape(out, c);
            ++i;
            continue;
        }
        const size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD for each byte that starts no valid sequence
            ++i;
        } else if (s.substr(i, n) == "\xE2\x80\xA8" || s.substr(i, n) == "\xE2\x80\xA9") {
            // U+2028/U+2029 are valid JSON but end a line in pre-2019 JavaScript source.
            out += s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
            i += n;
        } else {
            out.append(s.data() + i, n);
            i += n;
        }
    }
    out += '"';
}

// Commas go before every element but the first of its container; a value right after a key
// needs none.
void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (first_.empty()) return;
    if (first_.back() == '1') {
        first_.back() = '0';
    } else {
        out_ += ',';
    }
}

JsonWriter& JsonWriter::begin_object() {
    before_value();
    out_ += '{';
    stack_ += 'o';
    first_ += '1';
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    out_ += '}';
    if (!stack_.empty()) {  // an unbalanced end is the caller's bug; never undefined behaviour
        stack_.pop_back();
        first_.pop_back();
    }
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    before_value();
    out_ += '[';
    stack_ += 'a';
    first_ += '1';
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    out_ += ']';
    if (!stack_.empty()) {  // an unbalanced end is the caller's bug; never undefined behaviour
        stack_.pop_back();
        first_.pop_back();
    }
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
    before_value();
    append_json_string(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    before_value();
    append_json_string(out_, s);
    return *this;
}

JsonWriter& JsonWriter::value(int64_t n) {
    before_value();
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, end);
    return *this;
}

// Shortest text that reads back as the same double (std::to_chars without a precision), so
// 0.1 is written "0.1" and not "0.10000000000000001".
JsonWriter& JsonWriter::value(double d) {
    before_value();
    if (!std::isfinite(d)) {
        out_ += "null";
        return *this;
    }
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out_.append(buf, end);
    return *this;
}

JsonWriter& JsonWriter::value(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    before_value();
    out_ += json;
    return *this;
}

}  // namespace core
