// libFuzzer target for handlers/resource: the field tables' body and form readers, which every
// create and patch body of every resource goes through (string arrays included: a learning
// resource's tags), and PUT /me/goals' array reader. Invariants: a refusal is a 400 or 422
// naming a field (never another status, never a crash); an accepted body holds only strings
// within the field's bounds in characters, arrays within their counts, dates that exist. A
// top-level array goes through the batch reader's shape (PATCH /tasks): every item as a
// TaskBatchItem, a refusal renamed "[i].field" with its status kept.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "core/utf8.h"
#include "db/tasks.h"
#include "handlers/common.h"
#include "handlers/openai_form.h"
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
        if (f.type == handlers::Type::array) {
            auto items = in.list(f.name);
            if (!items) continue;
            require(f.max_items == 0 || static_cast<int64_t>(items->size()) <= f.max_items,
                    "an accepted array has more items than its field's max_items");
            require(static_cast<int64_t>(items->size()) >= f.min_items,
                    "an accepted array has fewer items than its field's min_items");
            for (const std::string& item : *items) {
                require(core::valid_utf8(item), "an accepted array item is not UTF-8");
                auto n = static_cast<int64_t>(core::utf8_length(item));
                require(f.items == handlers::Type::uuid ? item.size() == 36
                                                        : (f.max == 0 || n <= f.max) && n >= f.min,
                        "an accepted array item is out of its bounds");
            }
            continue;
        }
        auto v = in.str(f.name);
        if (v && f.type == handlers::Type::date)
            require(handlers::is_calendar_date(*v), "an accepted date does not exist");
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
    for (const Resource* res : {&kUsers, &kSessions, &kTasks, &kProjects, &kLearningResources}) {
        for (const Body& b : res->bodies) {
            if (b.file) continue;  // a multipart upload: its form is read below
            refused_cleanly([&] { check_accepted(*res, read_body(*res, root, b.bit), b.bit); });
        }
    }
}

// PATCH /tasks's items, read as the handler reads them.
void read_batch(const cJSON* root) {
    if (!cJSON_IsArray(root)) return;
    size_t i = 0;
    for (const cJSON* item = root->child; item; item = item->next, ++i) {
        try {
            check_accepted(handlers::kTasks,
                           handlers::read_body(handlers::kTasks, item, handlers::kBodyB),
                           handlers::kBodyB);
        } catch (const core::ApiError& e) {
            core::ApiError renamed = db::batch_item_error(e, i);
            require(renamed.status == e.status, "a batch item's refusal changed its status");
            require(!renamed.errors.empty() &&
                        renamed.errors[0].field.rfind("[" + std::to_string(i) + "]", 0) == 0,
                    "a batch item's refusal does not name its index");
            require(e.status == 400 || e.status == 422, "a batch item refused with another status");
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

// The same form as POST /v1/audio/transcriptions reads it: a refusal is a 400 naming a field
// with OpenAI's code; an accepted form's language is an installed one. The file name is the
// form's "title" member: its title is UTF-8 within the title limit.
void read_openai_form(const cJSON* root) {
    if (!cJSON_IsObject(root)) return;
    std::map<std::string, std::string> form;
    for (const cJSON* c = root->child; c; c = c->next)
        if (cJSON_IsString(c) && c->string) form[c->string] = c->valuestring;
    static const std::vector<std::string> installed = {"en-test", "en-us", "fr-fr"};
    try {
        handlers::OpenAiOptions o = handlers::read_openai_form(form, installed);
        require(std::find(installed.begin(), installed.end(), o.language) != installed.end(),
                "an accepted OpenAI form names a language that is not installed");
    } catch (const core::ApiError& e) {
        require(e.status == 400 && !e.errors.empty() && !e.type.empty(),
                "an OpenAI form refused other than 400 with a param and a code");
    }
    if (auto it = form.find("title"); it != form.end()) {
        std::string t = handlers::title_from_filename(it->second);
        require(core::valid_utf8(t) && core::utf8_length(t) <= 200,
                "a title from a file name is not UTF-8 within 200 characters");
    }
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
    read_batch(root.get());
    read_upload_form(root.get());
    read_openai_form(root.get());
    // PUT /me/goals: a JSON array of goals; accepted goals are within their metric's bounds.
    refused_cleanly([&] {
        for (const db::Goal& g : handlers::read_goals(root.get())) {
            const handlers::MetricInfo* m = handlers::find_metric(g.metric);
            require(m && g.target >= 0 && g.target <= m->max, "an accepted goal is out of bounds");
        }
    });
    return 0;
}
