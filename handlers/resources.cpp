// The learning resources library: everyone reads it (GET /resources, filters kind and tag,
// keyset paging); admins add, change and remove entries (a member's write answers 403 from
// the route's kAdmin flag, before the handler). /recommendations ranks it by its tags.
#include "core/problem.h"
#include "db/learning_resources.h"
#include "db/pg.h"
#include "handlers/common.h"
#include "handlers/progress.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

constexpr const char* kKinds[] = {"article", "video", "exercise", "course"};
constexpr size_t kMaxUrlChars = 2000;

// An absolute http(s) URL with a host and no whitespace or control characters: the library
// links out, so anything a browser would not open as a web page is refused.
std::string normalise_url_or_throw(std::string_view url) {
    auto bad = [] {
        return core::ApiError::unprocessable("url", "must be an http:// or https:// URL");
    };
    std::string_view rest;
    if (url.rfind("https://", 0) == 0) {
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else {
        throw bad();
    }
    if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') throw bad();
    for (unsigned char c : url)
        if (c <= 0x20 || c == 0x7f) throw bad();
    return std::string(url);
}

using Rec = db::LearningResource;
// clang-format off
constexpr Field kResourceFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "title", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(title),
     .min = 1, .max = 200, .required = kCreate},
    {.name = "url", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(url),
     .min = 1, .max = kMaxUrlChars, .description = "an absolute http:// or https:// URL, unique in the library",
     .required = kCreate, .format = "uri", .normalise = normalise_url_or_throw},
    {.name = "kind", .type = Type::enumeration, .use = kOut | kCreate | kPatch | kFilter,
     .get = FIELD_GET(kind), .values = kKinds, .required = kCreate},
    {.name = "tags", .type = Type::array, .use = kOut | kCreate | kPatch, .get = FIELD_GET(tags),
     .values = kResourceTags,
     .description = "the metrics (analysis field names) and interview competencies it helps, a "
                    "repeated one dropped; absent on create: none",
     .max_items = kMaxResourceTags},
    {.name = "tag", .type = Type::enumeration, .use = kFilter, .values = kResourceTags,
     .description = "only resources carrying this tag"},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
};
constexpr Body kResourceBodies[] = {{kCreate, "LearningResourceCreate"},
                                    {kPatch, "LearningResourceUpdate"}};
// clang-format on

// The tags read_body kept → the text[] literal the statements take.
std::optional<std::string> tags_param(const std::optional<std::vector<std::string>>& tags) {
    if (!tags) return std::nullopt;
    return db::array_literal(*tags);
}

// A URL already in the library: 409 naming the field (the unique constraint decides, so two
// admins adding the same page at once cannot both succeed).
template <class F>
auto unique_url_or_409(F&& f) {
    try {
        return f();
    } catch (const db::DbError& e) {
        if (e.sqlstate == "23505" && e.constraint == "learning_resources_url_key")
            throw core::ApiError::conflict("url", "this URL is already in the library");
        throw;
    }
}

}  // namespace

constexpr Resource kLearningResources{.schema = "LearningResource",
                                      .fields = kResourceFields,
                                      .bodies = kResourceBodies,
                                      .cursor_key = FIELD_GET(cursor_key),
                                      .cursor_id = FIELD_GET(id)};

Response resources_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kLearningResources, req);
    Page p = read_page(req);
    db::ResourceFilter f{q.str("kind"), q.str("tag"), p.key, p.id};
    std::vector<db::LearningResource> rows = db::list_learning_resources(ctx.db, f, p.limit + 1);
    return list_response(kLearningResources, rows, p.limit);
}

Response resources_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kLearningResources, body.get(), kCreate);
    db::NewLearningResource r{in.take("title"), in.take("url"), in.take("kind"),
                              *tags_param(in.list("tags").value_or(std::vector<std::string>{}))};
    db::LearningResource made =
        unique_url_or_409([&] { return db::insert_learning_resource(ctx.db, r); });
    return Response::json(201, to_json(kLearningResources, made))
        .header("Location", "/api/v1/resources/" + made.id);
}

Response resources_get(Request& req, Ctx& ctx) {
    auto r = db::find_learning_resource(ctx.db, std::string(req.path_param("id")));
    if (!r) throw core::ApiError::not_found("no such resource");
    return Response::json(200, to_json(kLearningResources, *r));
}

Response resources_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kLearningResources, body.get(), kPatch);
    db::LearningResourceChanges c{in.str("title"), in.str("url"), in.str("kind"),
                                  tags_param(in.list("tags"))};
    auto r = unique_url_or_409(
        [&] { return db::update_learning_resource(ctx.db, std::string(req.path_param("id")), c); });
    if (!r) throw core::ApiError::not_found("no such resource");
    return Response::json(200, to_json(kLearningResources, *r));
}

Response resources_delete(Request& req, Ctx& ctx) {
    if (!db::delete_learning_resource(ctx.db, std::string(req.path_param("id"))))
        throw core::ApiError::not_found("no such resource");
    return Response::no_content();
}

}  // namespace handlers
