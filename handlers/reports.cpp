// The tracker's reports: a project's progress and cumulative flow, and per-member team
// performance and workload. Plain SQL aggregates (db/reports.cpp) over the tasks and their
// status history; the caller needs a role in the project (a stranger gets 404, as for the
// project itself). What each figure means is in handlers/openapi.json, per operation.
#include <cstdio>

#include "core/numbers.h"
#include "core/problem.h"
#include "db/reports.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/utc_time.h"

namespace handlers {
namespace {

// The most buckets a flow answers (a year of days): its cost and size grow with the count.
constexpr int64_t kMaxFlowBuckets = 366;

constexpr const char* kBuckets[] = {"day", "week"};

// The reports' outputs are written here field by field (nested counts); the tables give their
// query parameters and the top of their schemas, the prose's components the rest.
// clang-format off
constexpr Field kProgressFields[] = {
    {.name = "total", .type = Type::integer, .use = kOut, .description = "the project's tasks"},
    {.name = "by_status", .type = Type::object, .use = kOut, .ref = "StatusCounts"},
    {.name = "percent_done", .type = Type::number, .use = kOut, .min = 0, .max = 100,
     .description = "100 × done / total, one decimal; 0 when the project has no task"},
    {.name = "overdue", .type = Type::integer, .use = kOut,
     .description = "tasks not done whose due_date is before today (UTC)"},
    {.name = "by_priority", .type = Type::object, .use = kOut, .ref = "PriorityCounts"},
};
constexpr Field kFlowFields[] = {
    {.name = "buckets", .type = Type::object, .use = kOut, .ref = "FlowBuckets"},
    {.name = "from", .type = Type::timestamp, .use = kFilter,
     .description = "the window's start, taken back to its bucket's start (UTC midnight, or the Monday of its ISO week); default: to − 30 days"},
    {.name = "to", .type = Type::timestamp, .use = kFilter,
     .description = "the window's end (not included); default: now"},
    {.name = "bucket", .type = Type::enumeration, .use = kFilter, .values = kBuckets,
     .description = "day (24 h from UTC midnight) or week (from Monday, UTC); at most 366 buckets",
     .def = "day"},
};
constexpr Field kTeamFields[] = {
    {.name = "items", .type = Type::object, .use = kOut, .ref = "TeamPerformanceItems"},
    {.name = "project_id", .type = Type::uuid, .use = kFilter,
     .description = "required; a project the caller cannot see answers 404"},
    {.name = "from", .type = Type::timestamp, .use = kFilter,
     .description = "completions at or after; default: to − 30 days"},
    {.name = "to", .type = Type::timestamp, .use = kFilter,
     .description = "completions before; default: now"},
};
constexpr Field kWorkloadFields[] = {
    {.name = "items", .type = Type::object, .use = kOut, .ref = "WorkloadItems"},
    {.name = "unassigned", .type = Type::object, .use = kOut, .ref = "WorkloadCounts"},
    {.name = "project_id", .type = Type::uuid, .use = kFilter,
     .description = "required; a project the caller cannot see answers 404"},
};
// clang-format on

}  // namespace

constexpr Resource kProjectProgress{.schema = "ProjectProgress", .fields = kProgressFields};
constexpr Resource kFlow{.schema = "Flow", .fields = kFlowFields};
constexpr Resource kTeamPerformance{.schema = "TeamPerformance", .fields = kTeamFields};
constexpr Resource kWorkload{.schema = "Workload", .fields = kWorkloadFields};

namespace {

void write_status(core::JsonWriter& w, const char* key, const db::StatusCounts& c) {
    w.key(key).begin_object();
    w.field("todo", c.todo).field("in_progress", c.in_progress).field("review", c.review);
    w.field("done", c.done).end_object();
}

void write_open_status(core::JsonWriter& w, const db::StatusCounts& c) {
    w.key("by_status").begin_object();
    w.field("todo", c.todo).field("in_progress", c.in_progress).field("review", c.review);
    w.end_object();
}

void write_priority(core::JsonWriter& w, const db::PriorityCounts& c) {
    w.key("by_priority").begin_object();
    w.field("low", c.low).field("medium", c.medium).field("high", c.high);
    w.field("urgent", c.urgent).end_object();
}

std::string one_decimal(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

void write_seconds(core::JsonWriter& w, const char* key, const std::optional<double>& s) {
    w.key(key);
    if (s) {
        w.raw(core::fixed3(*s));
    } else {
        w.null();
    }
}

void write_percentiles(core::JsonWriter& w, const char* key, const db::Percentiles& p) {
    w.key(key).begin_object();
    write_seconds(w, "p50", p.p50);
    write_seconds(w, "p90", p.p90);
    w.end_object();
}

void write_workload(core::JsonWriter& w, const db::Workload& l) {
    w.field("open", l.open).field("overdue", l.overdue);
    write_open_status(w, l.by_status);
    write_priority(w, l.by_priority);
}

std::string project_or_422(const Input& q) {
    auto p = q.str("project_id");
    if (!p) throw core::ApiError::unprocessable("project_id", "is required");
    return *p;
}

core::ApiError no_project() {
    return core::ApiError::not_found("no such project");
}

}  // namespace

Response reports_progress(Request& req, Ctx& ctx) {
    auto p = db::project_progress(ctx.db, req.user().id, std::string(req.path_param("id")));
    if (!p) throw no_project();
    core::JsonWriter w;
    w.begin_object().field("total", p->total);
    write_status(w, "by_status", p->by_status);
    w.key("percent_done").raw(one_decimal(p->percent_done));
    w.field("overdue", p->overdue);
    write_priority(w, p->by_priority);
    w.end_object();
    return Response::json(200, w.take());
}

Response reports_flow(Request& req, Ctx& ctx) {
    Input q = read_filters(kFlow, req);
    std::string project(req.path_param("id"));
    db::FlowQuery fq{utc_time(q.str("from")), utc_time(q.str("to")),
                     q.str("bucket").value_or("day")};
    auto win = db::flow_window(ctx.db, req.user().id, project, fq);
    if (!win) throw no_project();
    if (win->buckets <= 0) throw core::ApiError::unprocessable("from", "must be before to");
    if (win->buckets > kMaxFlowBuckets)
        throw core::ApiError::unprocessable(
            "from", "the window holds " + std::to_string(win->buckets) + " buckets; at most " +
                        std::to_string(kMaxFlowBuckets) + " are answered (use bucket=week)");
    auto buckets = db::project_flow(ctx.db, req.user().id, project, fq, *win);
    if (!buckets) throw no_project();
    core::JsonWriter w;
    w.begin_object().key("buckets").begin_array();
    for (const db::FlowBucket& b : *buckets) {
        w.begin_object().field("start", b.start);
        write_status(w, "counts", b.counts);
        w.end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

Response reports_team_performance(Request& req, Ctx& ctx) {
    Input q = read_filters(kTeamPerformance, req);
    std::string project = project_or_422(q);
    auto rows = db::team_performance(ctx.db, req.user().id, project,
                                     {utc_time(q.str("from")), utc_time(q.str("to"))});
    if (!rows) throw no_project();
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const db::MemberPerformance& m : *rows) {
        w.begin_object().field("user_id", m.user_id).field("name", m.name);
        w.field("completed", m.completed).field("in_progress", m.in_progress);
        write_percentiles(w, "lead_time_s", m.lead_time_s);
        write_percentiles(w, "cycle_time_s", m.cycle_time_s);
        w.end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

Response reports_workload(Request& req, Ctx& ctx) {
    Input q = read_filters(kWorkload, req);
    auto report = db::workload(ctx.db, req.user().id, project_or_422(q));
    if (!report) throw no_project();
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const db::Workload& l : report->items) {
        w.begin_object().field("user_id", *l.user_id).field("name", l.name.value_or(""));
        write_workload(w, l);
        w.end_object();
    }
    w.end_array().key("unassigned").begin_object();
    write_workload(w, report->unassigned);
    w.end_object().end_object();
    return Response::json(200, w.take());
}

}  // namespace handlers
