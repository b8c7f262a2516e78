// The reports' queries. Each reads one project, and only when project_role() gives the caller a
// role in it (the role is a condition of the statement itself: a stranger's request reads
// nothing). "Today" and day/week buckets are UTC.
#include "db/reports.h"

namespace db {
namespace {

#define STATUS_COUNTS(col)               \
    "count(*) FILTER (WHERE " col        \
    " = 'todo') AS todo, "               \
    "count(*) FILTER (WHERE " col        \
    " = 'in_progress') AS in_progress, " \
    "count(*) FILTER (WHERE " col        \
    " = 'review') AS review, "           \
    "count(*) FILTER (WHERE " col " = 'done') AS done"
#define PRIORITY_COUNTS(col)      \
    "count(*) FILTER (WHERE " col \
    " = 'low') AS low, "          \
    "count(*) FILTER (WHERE " col \
    " = 'medium') AS medium, "    \
    "count(*) FILTER (WHERE " col \
    " = 'high') AS high, "        \
    "count(*) FILTER (WHERE " col " = 'urgent') AS urgent"

// The project's row is joined first, so that a project without tasks gives one row of zeros
// and an invisible one none (404). Its tasks come from tasks_project_stats_idx alone.
constexpr Statement kProgress{"report_progress",
                              "SELECT count(t.project_id) AS total, " STATUS_COUNTS(
                                  "t.status") ", " PRIORITY_COUNTS("t.priority") R"sql(,
           count(*) FILTER (WHERE t.status <> 'done'
                              AND t.due_date < (now() AT TIME ZONE 'UTC')::date) AS overdue,
           CASE WHEN count(t.project_id) = 0 THEN 0
                ELSE round(100.0 * count(*) FILTER (WHERE t.status = 'done')
                           / count(t.project_id), 1)
           END::float8 AS percent_done
    FROM projects p
    LEFT JOIN tasks t ON t.project_id = p.id
    WHERE p.id = $1 AND project_role(p.id, $2) IS NOT NULL
    GROUP BY p.id)sql",
                              kIdempotent};

// The flow's window: `to` (default now), the first bucket's start (`from`, default to - 30
// days, truncated to its UTC day or ISO week, so a Monday), and how many buckets of 24 or 168
// hours reach `to`. Exact times (microseconds) so that the buckets' query sees the same ones.
constexpr Statement kFlowWindow{"report_flow_window", R"sql(
    WITH q AS (SELECT coalesce($4::timestamptz, now()) AS t_to),
         w AS (SELECT t_to, coalesce($3::timestamptz, t_to - interval '30 days') AS t_from,
                      date_trunc($5::text, coalesce($3::timestamptz, t_to - interval '30 days'),
                                 'UTC') AS start
               FROM q)
    SELECT to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start,
           to_char(t_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_to,
           CASE WHEN t_from >= t_to THEN 0
                ELSE ceil(extract(epoch FROM t_to - start) / $6::float8)::bigint END AS buckets
    FROM w
    WHERE project_role($1, $2) IS NOT NULL)sql",
                                kIdempotent};

// Cumulative flow in one pass over the project's history from the window's start on
// (task_status_history_flow_idx, a range of it, index only): the transitions are counted per
// bucket (the one each happened in, or bucket n, one past the last, when it happened at or after
// `to`) and kind (from, to), then each kind is +1 for the status it entered and -1 for the one it
// left (a creation leaves none), summed per bucket and status (the rows are grouped once, the
// deltas made from the few groups); the counts as at the end of bucket k are then the project's
// counts now (its tasks, from tasks_project_stats_idx) minus the deltas of every later bucket: a
// running sum over the buckets, latest first (a window). So the history before the window is never
// read: the default 30 days read 30 days of history, however old the project. (The history is
// complete for every task that exists: the tasks' trigger writes a task's creation and every
// status change, and a deleted task's history goes with it.) date_part, not extract: a float8
// rather than a numeric (PostgreSQL 14+) for the per-row bucket arithmetic.
constexpr Statement kFlow{"report_flow", R"sql(
    WITH now_counts AS (
        SELECT t.status, count(*) AS n FROM tasks t
        WHERE t.project_id = $1 AND project_role($1, $2) IS NOT NULL
        GROUP BY t.status
    ),
    moves AS (
        SELECT CASE WHEN h.at >= $4::timestamptz THEN $5::int
                    ELSE floor(date_part('epoch', h.at - $3::timestamptz) / $6::int)::int END AS b,
               h.from_status, h.to_status, count(*) AS n
        FROM task_status_history h
        WHERE h.project_id = $1 AND h.at >= $3::timestamptz AND project_role($1, $2) IS NOT NULL
        GROUP BY 1, 2, 3
    ),
    per AS (SELECT m.b, s.status, sum(s.sign * m.n) AS n
            FROM moves m
            CROSS JOIN LATERAL (VALUES (m.to_status, 1), (m.from_status, -1)) AS s(status, sign)
            WHERE s.status IS NOT NULL
            GROUP BY m.b, s.status),
    grid AS (SELECT b, s.status
             FROM generate_series(0, $5::int) AS b,
                  unnest(ARRAY['todo', 'in_progress', 'review', 'done']) AS s(status)),
    flow AS (
        SELECT grid.b, grid.status,
               coalesce(nc.n, 0) - coalesce(sum(per.n) OVER (PARTITION BY grid.status ORDER BY grid.b DESC
                                                            ROWS BETWEEN UNBOUNDED PRECEDING
                                                                     AND 1 PRECEDING), 0) AS n
        FROM grid
        LEFT JOIN per ON per.b = grid.b AND per.status = grid.status
        LEFT JOIN now_counts nc ON nc.status = grid.status
    )
    SELECT b, api_time($3::timestamptz + b * $6::int * interval '1 second') AS start, status,
           n::bigint AS n
    FROM flow
    WHERE b < $5::int AND project_role($1, $2) IS NOT NULL
    ORDER BY b)sql",
                          kIdempotent};

// Per member (the owner and every member row): the tasks assigned to them that reached done in
// [from, to) (each task once, at its last arrival in done within the window), with lead time
// (created -> that arrival) and cycle time (its first arrival in in_progress -> that arrival;
// none for a task that skipped in_progress, which percentile_cont then ignores), and the tasks
// assigned to them in in_progress now. Assignment is the task's current assignee (the history
// records statuses only).
constexpr Statement kTeamPerformance{"report_team_performance", R"sql(
    WITH pr AS (SELECT p.id, p.owner_id FROM projects p
                WHERE p.id = $1 AND project_role(p.id, $2) IS NOT NULL),
    win AS (SELECT coalesce($3::timestamptz, coalesce($4::timestamptz, now()) - interval '30 days')
                       AS t_from,
                   coalesce($4::timestamptz, now()) AS t_to),
    people AS (SELECT owner_id AS user_id FROM pr
               UNION
               SELECT m.user_id FROM project_members m JOIN pr ON m.project_id = pr.id),
    done AS (SELECT h.task_id, max(h.at) AS done_at
             FROM task_status_history h, win
             WHERE h.project_id = $1 AND h.to_status = 'done'
               AND h.at >= win.t_from AND h.at < win.t_to AND EXISTS (SELECT 1 FROM pr)
             GROUP BY h.task_id),
    timed AS (SELECT t.assignee_id,
                     date_part('epoch', d.done_at - t.created_at) AS lead_s,
                     date_part('epoch', d.done_at - s.started_at) AS cycle_s
              FROM done d
              JOIN tasks t ON t.id = d.task_id
              CROSS JOIN LATERAL (SELECT min(h.at) AS started_at FROM task_status_history h
                                  WHERE h.task_id = d.task_id AND h.to_status = 'in_progress'
                                    AND h.at <= d.done_at) s
              WHERE t.assignee_id IS NOT NULL),
    agg AS (SELECT assignee_id, count(*) AS completed,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_s) AS lead_p50,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY lead_s) AS lead_p90,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_s) AS cycle_p50,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY cycle_s) AS cycle_p90
            FROM timed GROUP BY assignee_id),
    wip AS (SELECT t.assignee_id, count(*) AS n FROM tasks t
            WHERE t.project_id = $1 AND t.status = 'in_progress' AND t.assignee_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM pr)
            GROUP BY t.assignee_id)
    SELECT u.id AS user_id, u.name, coalesce(agg.completed, 0) AS completed,
           coalesce(wip.n, 0) AS in_progress, agg.lead_p50, agg.lead_p90, agg.cycle_p50,
           agg.cycle_p90
    FROM people
    JOIN users u ON u.id = people.user_id
    LEFT JOIN agg ON agg.assignee_id = u.id
    LEFT JOIN wip ON wip.assignee_id = u.id
    ORDER BY completed DESC, u.name, u.id)sql",
                                     kIdempotent};

// The project's open tasks (not done) grouped by assignee (NULL: unassigned). The project row
// comes first: no open task at all gives one row of NULLs, an invisible project none (404).
constexpr Statement kWorkload{"report_workload", R"sql(
    WITH pr AS (SELECT p.id FROM projects p
                WHERE p.id = $1 AND project_role(p.id, $2) IS NOT NULL),
    g AS (SELECT t.assignee_id, count(*) AS open,
                 count(*) FILTER (WHERE t.due_date < (now() AT TIME ZONE 'UTC')::date) AS overdue,
                 )sql" STATUS_COUNTS("t.status") ", " PRIORITY_COUNTS("t.priority") R"sql(
          FROM tasks t JOIN pr ON t.project_id = pr.id
          WHERE t.status <> 'done'
          GROUP BY t.assignee_id)
    SELECT g.assignee_id AS user_id, u.name, g.open, g.overdue, g.todo, g.in_progress, g.review,
           g.done, g.low, g.medium, g.high, g.urgent
    FROM pr
    LEFT JOIN g ON true
    LEFT JOIN users u ON u.id = g.assignee_id
    ORDER BY g.assignee_id IS NULL, g.open DESC, u.name, g.assignee_id)sql",
                              kIdempotent};

StatusCounts status_counts(const Row& row) {
    return {row.i64("todo"), row.i64("in_progress"), row.i64("review"), row.i64("done")};
}
PriorityCounts priority_counts(const Row& row) {
    return {row.i64("low"), row.i64("medium"), row.i64("high"), row.i64("urgent")};
}
int64_t& status_slot(StatusCounts& c, const std::string& status) {
    if (status == "todo") return c.todo;
    if (status == "in_progress") return c.in_progress;
    if (status == "review") return c.review;
    return c.done;
}

constexpr int64_t kDayS = 86400, kWeekS = 7 * kDayS;
std::string step_seconds(const std::string& bucket) {
    return std::to_string(bucket == "week" ? kWeekS : kDayS);
}

}  // namespace

std::optional<Progress> project_progress(Db& db, const std::string& user_id,
                                         const std::string& project_id) {
    Result r = db.exec(kProgress, {project_id, user_id});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return Progress{row.i64("total"), status_counts(row), row.f64("percent_done"),
                    row.i64("overdue"), priority_counts(row)};
}

std::optional<FlowWindow> flow_window(Db& db, const std::string& user_id,
                                      const std::string& project_id, const FlowQuery& q) {
    Result r =
        db.exec(kFlowWindow, {project_id, user_id, q.from, q.to, q.bucket, step_seconds(q.bucket)});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return FlowWindow{row.str("start"), row.str("t_to"), row.i64("buckets")};
}

std::optional<std::vector<FlowBucket>> project_flow(Db& db, const std::string& user_id,
                                                    const std::string& project_id,
                                                    const FlowQuery& q, const FlowWindow& w) {
    Result r = db.exec(kFlow, {project_id, user_id, w.start, w.to, std::to_string(w.buckets),
                               step_seconds(q.bucket)});
    if (r.rows() == 0) return std::nullopt;
    std::vector<FlowBucket> out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        auto b = static_cast<size_t>(row.i64("b"));
        if (b >= out.size()) out.push_back({row.str("start"), {}});
        status_slot(out.back().counts, row.str("status")) = row.i64("n");
    }
    return out;
}

std::optional<std::vector<MemberPerformance>> team_performance(Db& db, const std::string& user_id,
                                                               const std::string& project_id,
                                                               const Window& w) {
    Result r = db.exec(kTeamPerformance, {project_id, user_id, w.from, w.to});
    if (r.rows() == 0) return std::nullopt;  // a project always has its owner: invisible
    std::vector<MemberPerformance> out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        out.push_back({row.str("user_id"),
                       row.str("name"),
                       row.i64("completed"),
                       row.i64("in_progress"),
                       {row.opt_f64("lead_p50"), row.opt_f64("lead_p90")},
                       {row.opt_f64("cycle_p50"), row.opt_f64("cycle_p90")}});
    }
    return out;
}

std::optional<WorkloadReport> workload(Db& db, const std::string& user_id,
                                       const std::string& project_id) {
    Result r = db.exec(kWorkload, {project_id, user_id});
    if (r.rows() == 0) return std::nullopt;
    WorkloadReport out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        if (row.is_null("open")) continue;  // the project has no open task
        Workload w{row.opt("user_id"), row.opt("name"),    row.i64("open"),
                   row.i64("overdue"), status_counts(row), priority_counts(row)};
        if (w.user_id) {
            out.items.push_back(std::move(w));
        } else {
            out.unassigned = std::move(w);
        }
    }
    return out;
}

}  // namespace db
