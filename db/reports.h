// The tracker's reports: plain SQL aggregates over a project's tasks and their status history
// (task_status_history, written by trigger). Each query takes the caller's id and reads the
// project only when project_role() gives the caller a role in it: nullopt means 404.
// handlers/reports.cpp and its OpenAPI prose say what every figure means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct StatusCounts {
    int64_t todo = 0, in_progress = 0, review = 0, done = 0;
};
struct PriorityCounts {
    int64_t low = 0, medium = 0, high = 0, urgent = 0;
};

struct Progress {
    int64_t total = 0;
    StatusCounts by_status;
    double percent_done = 0;  // 100 * done / total, one decimal; 0 without tasks
    int64_t overdue = 0;      // due before today (UTC) and not done
    PriorityCounts by_priority;
};
std::optional<Progress> project_progress(Db& db, const std::string& user_id,
                                         const std::string& project_id);

// The window of a flow request once defaults and bucket alignment are applied.
struct FlowWindow {
    std::string start;  // the first bucket's start (UTC midnight; a Monday for weeks)
    std::string to;     // the end of the last bucket's counting (`to`, default now)
    int64_t buckets = 0;
};
struct FlowQuery {
    std::optional<std::string> from, to;  // RFC 3339; defaults: to = now, from = to - 30 days
    std::string bucket;                   // day | week
};
std::optional<FlowWindow> flow_window(Db& db, const std::string& user_id,
                                      const std::string& project_id, const FlowQuery& q);
struct FlowBucket {
    std::string start;
    StatusCounts counts;  // as at the bucket's end (or `to`, for a last bucket ending after it)
};
std::optional<std::vector<FlowBucket>> project_flow(Db& db, const std::string& user_id,
                                                    const std::string& project_id,
                                                    const FlowQuery& q, const FlowWindow& w);

struct Percentiles {
    std::optional<double> p50, p90;  // seconds; nullopt when nothing was completed
};
struct MemberPerformance {
    std::string user_id, name;
    int64_t completed = 0, in_progress = 0;
    Percentiles lead_time_s, cycle_time_s;
};
struct Window {
    std::optional<std::string> from, to;  // RFC 3339; defaults: to = now, from = to - 30 days
};
std::optional<std::vector<MemberPerformance>> team_performance(Db& db, const std::string& user_id,
                                                               const std::string& project_id,
                                                               const Window& w);

struct Workload {
    std::optional<std::string> user_id, name;  // nullopt: the unassigned tasks
    int64_t open = 0, overdue = 0;
    StatusCounts by_status;  // of the open tasks (done stays 0)
    PriorityCounts by_priority;
};
struct WorkloadReport {
    std::vector<Workload> items;
    Workload unassigned;
};
std::optional<WorkloadReport> workload(Db& db, const std::string& user_id,
                                       const std::string& project_id);

}  // namespace db
