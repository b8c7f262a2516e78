// libFuzzer target for core/json: parse_json_strict, ObjectReader and the JsonWriter round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/problem.h"

namespace {

// Aborts with a message: libFuzzer reports it and keeps the input.
void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_json invariant broken: %s\n", what);
    std::abort();
}

// Every string and key in an accepted tree is valid UTF-8: that is what PostgreSQL will see.
void check_strings(const cJSON* node) {
    if (node->string) require(core::valid_utf8(node->string), "key is not valid UTF-8");
    if (cJSON_IsString(node)) {
        require(node->valuestring && core::valid_utf8(node->valuestring),
                "string is not valid UTF-8");
    }
    for (const cJSON* c = node->child; c; c = c->next) check_strings(c);
}

void write_tree(core::JsonWriter& w, const cJSON* node) {
    if (cJSON_IsObject(node)) {
        w.begin_object();
        for (const cJSON* c = node->child; c; c = c->next) {
            w.key(c->string);
            write_tree(w, c);
        }
        w.end_object();
    } else if (cJSON_IsArray(node)) {
        w.begin_array();
        for (const cJSON* c = node->child; c; c = c->next) write_tree(w, c);
        w.end_array();
    } else if (cJSON_IsString(node)) {
        w.value(std::string_view(node->valuestring));
    } else if (cJSON_IsNumber(node)) {
        w.value(node->valuedouble);
    } else if (cJSON_IsBool(node)) {
        w.value(static_cast<bool>(cJSON_IsTrue(node)));
    } else {
        w.null();
    }
}

// What the parser accepted, written back out, must be accepted again and mean the same.
void round_trip(const cJSON* root) {
    core::JsonWriter w;
    write_tree(w, root);
    core::JsonPtr again;
    try {
        again = core::parse_json_strict(w.str());
    } catch (const core::ApiError& e) {
        std::fprintf(stderr, "re-parse refused %s: %s\n", w.str().c_str(), e.detail.c_str());
        std::abort();
    }
    require(cJSON_Compare(root, again.get(), 1), "round trip changed the value");
}

// Any string, written by append_json_string, parses back (unless it holds a NUL, which the
// parser refuses on purpose) to itself, or to itself with U+FFFD for invalid bytes.
void string_round_trip(std::string_view text) {
    std::string out;
    core::append_json_string(out, text);
    if (text.find('\0') != std::string_view::npos) return;
    const core::JsonPtr back = core::parse_json_strict(out);
    require(cJSON_IsString(back.get()), "a written string did not read back as a string");
    if (core::valid_utf8(text)) require(back->valuestring == text, "string changed on the way");
}

template <class F>
void expect_api_error(F&& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        require(e.status == 400 || e.status == 422, "ObjectReader error is not 400/422");
        require(!e.errors.empty(), "ObjectReader error names no field");
    }
}

void read_fields(const cJSON* root) {
    if (!cJSON_IsObject(root)) return;
    core::ObjectReader r(root);
    expect_api_error([&] { r.optional_string("title", 0, 100); });
    expect_api_error([&] { r.required_string("name", 1, 20); });
    expect_api_error([&] {
        const auto n = r.optional_int("limit", -1000, 1000);
        require(!n || (*n >= -1000 && *n <= 1000), "optional_int out of its bounds");
    });
    expect_api_error([&] { r.optional_int("big", INT64_MIN, INT64_MAX); });
    expect_api_error([&] { r.optional_bool("done"); });
    expect_api_error([&] {
        const auto v = r.optional_string_array("labels", 1, 4, 1, 8);
        require(!v || (v->size() >= 1 && v->size() <= 4),
                "optional_string_array outside its min_items..max_items");
    });
    expect_api_error([&] {
        const auto v = r.optional_int_object("limits", 1, 50);
        for (const auto& kv : v.value_or(std::vector<std::pair<std::string, int64_t>>{}))
            require(kv.second >= 1 && kv.second <= 50, "optional_int_object out of its bounds");
    });
    r.has("a");
    expect_api_error([&] { r.finish(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    string_round_trip(text);
    core::JsonPtr root;
    try {
        root = core::parse_json_strict(text);
    } catch (const core::ApiError& e) {
        require(e.status == 400, "parse_json_strict refused with a status other than 400");
        return 0;
    }
    require(core::valid_utf8(text), "accepted text that is not valid UTF-8");
    check_strings(root.get());
    round_trip(root.get());
    read_fields(root.get());
    return 0;
}
