// Typed queries on projects and their members (the tracker, sql/migrations/0005_tracker.sql).
// Every query a user can reach passes the caller's id through project_role(): a project the
// caller cannot see and no project are the same nullopt, and the role it returns is what the
// caller may do (owner/admin change the project and its members, a member reads it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

inline constexpr const char* kProjectStatuses[] = {"active", "completed", "archived"};

// A project as its caller sees it; handlers/projects.cpp describes which fields a client gets.
struct Project {
    std::string id;
    std::string name;
    std::optional<std::string> description;
    std::string status;
    std::string owner_id;
    std::string member_ids;   // JSON array of uuids (the owner is never one), in added order
    std::string wip_limits;   // JSON object {status: n}
    std::string permissions;  // JSON {edit, delete, manage_members} for the caller
    std::string role;         // the caller's: owner | admin | member
    std::string created_at;
    std::string updated_at;
    std::string cursor_key;  // created_at in µs since the epoch
};

std::optional<Project> find_project(Db& db, const std::string& caller_id, const std::string& id);

struct ProjectFilter {
    std::optional<std::string> status;
    std::optional<std::string> q;  // name contains, case-insensitive (taken literally)
    std::optional<std::string> before_key, before_id;
};
// What the caller can see (an admin: all), newest first.
std::vector<Project> list_projects(Db& db, const std::string& caller_id, const ProjectFilter& f,
                                   int limit);

// May `user_id` see the project (project_role not NULL)? What links a session to a project.
bool project_visible(Db& db, const std::string& project_id, const std::string& user_id);
// The 422 sentence for a project_id that names no project the caller can see.
inline constexpr const char* kProjectNotVisible = "must be a project you can see";

// --- changes: each in the caller's transaction ----------------------------------------------

// A project row locked for a change until the transaction ends (FOR NO KEY UPDATE, or FOR
// UPDATE for a delete), with the caller's role decided in the same statement. nullopt: the
// caller cannot see it (or it does not exist).
struct LockedProject {
    std::string role;
    std::string owner_id;
    std::string snapshot;                 // jsonb of the fields an activity entry compares
    std::vector<std::string> member_ids;  // as they stand
};
std::optional<LockedProject> lock_project(Db& db, const std::string& caller_id,
                                          const std::string& id, bool for_delete);

// Why a would-be member is refused: its index in `ids` and the sentence, or nullopt when all
// are active users other than `owner_id`.
struct BadMember {
    size_t index;
    std::string message;
};
std::optional<BadMember> first_bad_member(Db& db, const std::vector<std::string>& ids,
                                          const std::string& owner_id);

struct NewProject {
    std::string owner_id;
    std::string name;
    std::optional<std::string> description;
    std::string status;
    std::string wip_limits = "{}";
    std::vector<std::string> member_ids;
};
// Inserts the project and its members with their activity entries ('project' created,
// 'member' added); returns its id.
std::string insert_project(Db& db, const NewProject& p);

struct ProjectChanges {
    std::optional<std::string> name, description, status, wip_limits, owner_id;
    bool clear_description = false;
};
// Applies the changes and writes the 'project' updated entry with {field: [old, new]} when
// anything changed.
void update_project(Db& db, const std::string& actor_id, const std::string& id,
                    const ProjectChanges& c);

// Adds members (those already in stay as they are) with a 'member' added entry each; returns
// the ids that were added.
std::vector<std::string> add_members(Db& db, const std::string& actor_id,
                                     const std::string& project_id,
                                     const std::vector<std::string>& user_ids);
// Removes members with a 'member' removed entry each, and unassigns their tasks of the
// project (a 'task' updated entry {assignee_id: [old, null]} each). Returns the removed ids
// and the unassigned task ids.
struct RemovedMembers {
    std::vector<std::string> user_ids;
    std::vector<std::string> task_ids;
};
RemovedMembers remove_members(Db& db, const std::string& actor_id, const std::string& project_id,
                              const std::vector<std::string>& user_ids);

// A member becoming the owner leaves its member row (no 'member' entry: the 'project' entry's
// owner_id [old, new] says it), keeping its assignments.
void drop_member_row(Db& db, const std::string& project_id, const std::string& user_id);

// The project row goes (its members and tasks by cascade; sessions keep their recording and
// lose the link); the 'project' deleted entry {field: [old, null]} is written first.
void delete_project(Db& db, const std::string& actor_id, const std::string& id);

// A board's advisory lock (lock_board() in SQL), until the transaction ends: a project's board
// (its id) or a user's personal one (the user's id). Taken before the project row and the task
// rows by every change that can touch a board's tasks: projects, tasks, memos (db/tasks.cpp).
void lock_board(Db& db, const std::string& board_id);

}  // namespace db
