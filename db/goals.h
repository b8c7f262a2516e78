// A user's practice goals: metric targets with a direction (at_most / at_least).
#pragma once

#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct Goal {
    std::string metric;
    double target = 0;
    std::string direction;  // "at_most" | "at_least"
};

// In the order the user gave them.
std::vector<Goal> list_goals(Db& db, const std::string& user_id);
// Replaces all of the user's goals in one transaction.
void replace_goals(Db& db, const std::string& user_id, const std::vector<Goal>& goals);

}  // namespace db
