// Queries on goals (sql/migrations/0009_progress.sql).
#include "db/goals.h"

#include "core/numbers.h"

namespace db {
namespace {

constexpr Statement kList{"goals_list", R"sql(
    SELECT metric, target, direction FROM goals WHERE user_id = $1 ORDER BY position)sql",
                          kIdempotent};
// Two PUTs at once: the second's DELETE cannot see the first's new rows (READ COMMITTED) and
// its INSERT would collide with them (a 409). The user's replacements are serialised instead
// (advisory class 1101: a user's goals; 1100 is the tracker's boards).
constexpr Statement kLockGoals{"goals_lock", "SELECT pg_advisory_xact_lock(1101, hashtext($1))"};
constexpr Statement kDeleteAll{"goals_delete_all", "DELETE FROM goals WHERE user_id = $1"};
// One statement for all goals: arrays in, unnest out.
constexpr Statement kInsert{"goals_insert", R"sql(
    INSERT INTO goals (user_id, position, metric, target, direction)
    SELECT $1, g.ord - 1, g.metric, g.target, g.direction
    FROM unnest($2::text[], $3::float8[], $4::text[]) WITH ORDINALITY
         AS g(metric, target, direction, ord))sql"};

}  // namespace

std::vector<Goal> list_goals(Db& db, const std::string& user_id) {
    Result r = db.exec(kList, {user_id});
    std::vector<Goal> out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        out.push_back({row.str("metric"), row.f64("target"), row.str("direction")});
    }
    return out;
}

void replace_goals(Db& db, const std::string& user_id, const std::vector<Goal>& goals) {
    std::vector<std::string> metrics, targets, directions;
    for (const Goal& g : goals) {
        metrics.push_back(g.metric);
        targets.push_back(core::exact_number(g.target));
        directions.push_back(g.direction);
    }
    Tx tx(db);
    db.exec(kLockGoals, {user_id});
    db.exec(kDeleteAll, {user_id});
    if (!goals.empty())
        db.exec(kInsert, {user_id, array_literal(metrics), array_literal(targets),
                          array_literal(directions)});
    tx.commit();
}

}  // namespace db
