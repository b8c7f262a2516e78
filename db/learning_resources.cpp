// Queries on the learning resources library (sql/migrations/0009_progress.sql).
#include "db/learning_resources.h"

#include "core/json.h"

namespace db {
namespace {

#define RESOURCE_COLUMNS                                                                       \
    "id, title, url, kind, to_jsonb(tags)::text AS tags, api_time(created_at) AS created_at, " \
    "api_time(updated_at) AS updated_at, "                                                     \
    "(extract(epoch from created_at) * 1000000)::bigint AS cursor_key"

constexpr Statement kList{"learning_resources_list", "SELECT " RESOURCE_COLUMNS R"sql(
    FROM learning_resources
    WHERE ($1::text IS NULL OR kind = $1)
      AND ($2::text IS NULL OR tags @> ARRAY[$2::text])
      AND ($3::bigint IS NULL
           OR ((extract(epoch from created_at) * 1000000)::bigint, id) < ($3::bigint, $4::uuid))
    ORDER BY learning_resources.created_at DESC, learning_resources.id DESC
    LIMIT $5)sql",
                          kIdempotent};
constexpr Statement kFind{"learning_resources_find",
                          "SELECT " RESOURCE_COLUMNS " FROM learning_resources WHERE id = $1",
                          kIdempotent};
constexpr Statement kTagged{"learning_resources_tagged", "SELECT " RESOURCE_COLUMNS R"sql(
    FROM learning_resources WHERE tags && $1::text[]
    ORDER BY learning_resources.created_at, learning_resources.id)sql",
                            kIdempotent};
constexpr Statement kInsert{"learning_resources_insert", R"sql(
    INSERT INTO learning_resources (title, url, kind, tags) VALUES ($1, $2, $3, $4::text[])
    RETURNING )sql" RESOURCE_COLUMNS};
constexpr Statement kUpdate{"learning_resources_update", R"sql(
    UPDATE learning_resources SET title = coalesce($2, title), url = coalesce($3, url),
        kind = coalesce($4, kind), tags = coalesce($5::text[], tags), updated_at = now()
    WHERE id = $1
    RETURNING )sql" RESOURCE_COLUMNS};
constexpr Statement kDelete{"learning_resources_delete",
                            "DELETE FROM learning_resources WHERE id = $1 RETURNING id"};

LearningResource resource_from(const Result& r, int i) {
    Row row(r, i);
    LearningResource x;
    x.id = row.str("id");
    x.title = row.str("title");
    x.url = row.str("url");
    x.kind = row.str("kind");
    x.tags = row.str("tags");
    core::JsonPtr tags(cJSON_Parse(x.tags.c_str()));
    for (const cJSON* t = tags ? tags->child : nullptr; t; t = t->next)
        if (cJSON_IsString(t)) x.tag_list.emplace_back(t->valuestring);
    x.created_at = row.str("created_at");
    x.updated_at = row.str("updated_at");
    x.cursor_key = row.str("cursor_key");
    return x;
}

std::vector<LearningResource> all_from(const Result& r) {
    std::vector<LearningResource> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(resource_from(r, i));
    return out;
}

}  // namespace

std::optional<LearningResource> find_learning_resource(Db& db, const std::string& id) {
    Result r = db.exec(kFind, {id});
    if (r.rows() == 0) return std::nullopt;
    return resource_from(r, 0);
}

std::vector<LearningResource> list_learning_resources(Db& db, const ResourceFilter& f, int limit) {
    return all_from(
        db.exec(kList, {f.kind, f.tag, f.before_key, f.before_id, std::to_string(limit)}));
}

std::vector<LearningResource> learning_resources_tagged(Db& db, const std::string& tags) {
    return all_from(db.exec(kTagged, {tags}));
}

LearningResource insert_learning_resource(Db& db, const NewLearningResource& r) {
    return resource_from(db.exec(kInsert, {r.title, r.url, r.kind, r.tags}), 0);
}

std::optional<LearningResource> update_learning_resource(Db& db, const std::string& id,
                                                         const LearningResourceChanges& c) {
    Result r = db.exec(kUpdate, {id, c.title, c.url, c.kind, c.tags});
    if (r.rows() == 0) return std::nullopt;
    return resource_from(r, 0);
}

bool delete_learning_resource(Db& db, const std::string& id) {
    return db.exec(kDelete, {id}).rows() > 0;
}

}  // namespace db
