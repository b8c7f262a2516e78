// libFuzzer target for handlers/resource: the field tables' body and form readers, which every
// create and patch body of every resource goes through (string arrays included: a learning
// resource's tags), and PUT /me/goals' array reader. Invariants: a refusal is a 400 or 422
// naming a field (never another status, never a crash); an accepted body holds only strings
// within the field's bounds in characters.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/problem.h"
#include "core/utf8.h"
#include "handlers/progress.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_resource invariant broken: %s\n", what);
    std::abort();
}

// Every accepted text field respects its table row's bounds (characters, not bytes).
void check_accepted(const handlers::Resource& res, const handlers::Input& in, unsigned body) {
    for (const handlers::Field& f : res.fields) {
        if (!(f.use & body)) continue;
        if (f.type == handlers::Type::boolean) continue;
        auto v = in.str(f.name);
        if (!v) continue;
        require(core::valid_utf8(*v), "an accepted field is not UTF-8");
        if (f.max > 0 && (f.type == handlers::Type::string || f.type == handlers::Type::text)) {
            auto n = static_cast<int64_t>(core::utf8_length(*v));
            require(n <= f.max, "an accepted string is longer than its field's max");
        }
    }
}

template <class F>
void refused_cleanly(F&& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        require(e.status == 400 || e.status == 422,
                "a body refused with a status other than 400/422");
        require(!e.errors.empty() || e.status == 400, "a 422 names no field");
    }
}

void read_bodies(const cJSON* root) {
    using namespace handlers;
    for (const Resource* res : {&kUsers, &kSessions, &kLearningResources}) {
        for (const Body& b : res->bodies) {
            if (b.file) continue;  // a multipart upload: its form is read below
            refused_cleanly([&] { check_accepted(*res, read_body(*res, root, b.bit), b.bit); });
        }
    }
}

// The same bytes as an upload's form: every top-level string member becomes a field.
void read_upload_form(const cJSON* root) {
    if (!cJSON_IsObject(root)) return;
    std::map<std::string, std::string> form;
    for (const cJSON* c = root->child; c; c = c->next)
        if (cJSON_IsString(c) && c->string) form[c->string] = c->valuestring;
    refused_cleanly([&] {
        auto in = handlers::read_form(handlers::kSessions, form, handlers::kCreate);
        check_accepted(handlers::kSessions, in, handlers::kCreate);
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    core::JsonPtr root;
    try {
        root = core::parse_json_strict(text);
    } catch (const core::ApiError&) {
        return 0;  // fuzz_json owns the parser
    }
    read_bodies(root.get());
    read_upload_form(root.get());
    // PUT /me/goals: a JSON array of goals; accepted goals are within their metric's bounds.
    refused_cleanly([&] {
        for (const db::Goal& g : handlers::read_goals(root.get())) {
            const handlers::MetricInfo* m = handlers::find_metric(g.metric);
            require(m && g.target >= 0 && g.target <= m->max, "an accepted goal is out of bounds");
        }
    });
    return 0;
}
