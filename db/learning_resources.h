// The learning resources library (articles, talks, exercises, courses), shared by every user
// and written by admins; /recommendations ranks it by the tags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct LearningResource {
    std::string id;
    std::string title;
    std::string url;
    std::string kind;  // article | video | exercise | course
    std::string tags;  // a JSON array of strings, as PostgreSQL renders text[] with to_jsonb
    std::vector<std::string> tag_list;  // the same tags, for ranking
    std::string created_at;
    std::string updated_at;
    std::string cursor_key;
};

struct ResourceFilter {
    std::optional<std::string> kind, tag, before_key, before_id;
};

// tags: a text[] literal (db::array_literal); nullopt in changes leaves a field alone.
struct NewLearningResource {
    std::string title, url, kind, tags;
};
struct LearningResourceChanges {
    std::optional<std::string> title, url, kind, tags;
};

std::optional<LearningResource> find_learning_resource(Db& db, const std::string& id);
std::vector<LearningResource> list_learning_resources(Db& db, const ResourceFilter& f, int limit);
// Every resource carrying at least one of the tags (a text[] literal), oldest first.
std::vector<LearningResource> learning_resources_tagged(Db& db, const std::string& tags);
// Throws DbError 23505 (learning_resources_url_key) when the URL is already in the library.
LearningResource insert_learning_resource(Db& db, const NewLearningResource& r);
std::optional<LearningResource> update_learning_resource(Db& db, const std::string& id,
                                                         const LearningResourceChanges& c);
bool delete_learning_resource(Db& db, const std::string& id);

}  // namespace db
