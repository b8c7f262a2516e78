// Liveness, readiness and Prometheus metrics.
#include <string>

#include "core/json.h"
#include "db/jobs.h"
#include "db/migrate.h"
#include "fcgi/scoreboard.h"
#include "handlers/common.h"
#include "handlers/routes.h"

namespace handlers {

Response health_live(Request&, Ctx&) {
    return Response::json(200, R"({"status":"ok"})");
}

// Ready when PostgreSQL answers, the schema is at the version this binary expects, and a
// worker announced itself within the last minute (uploads would wait forever otherwise).
Response health_ready(Request&, Ctx& ctx) {
    bool db_ok = ctx.db.ping();
    int applied = 0;
    bool worker_ok = false;
    if (db_ok) {
        try {
            applied = db::applied_version(ctx.db);
            worker_ok = applied >= db::latest_version() && db::worker_seen_recently(ctx.db, 60);
        } catch (const db::DbError&) {
            db_ok = false;
        }
    }
    bool migrations_ok = applied >= db::latest_version();
    if (!db_ok) throw core::ApiError::unavailable("database unreachable");
    if (!migrations_ok)
        throw core::ApiError::unavailable("migrations behind: at " + std::to_string(applied) +
                                          ", need " + std::to_string(db::latest_version()));
    if (!worker_ok) throw core::ApiError::unavailable("no worker seen in the last minute");
    core::JsonWriter w;
    w.begin_object()
        .field("status", "ready")
        .key("checks")
        .begin_object()
        .field("database", "ok")
        .field("migrations", static_cast<int64_t>(applied))
        .field("worker", "ok")
        .end_object()
        .end_object();
    return Response::json(200, w.take());
}

namespace {

void append_route_metrics(std::string& out, const fcgi::Scoreboard& b) {
    auto routes = route_table();
    out += "# HELP rostrum_http_requests_total Requests answered, by route and status.\n";
    out += "# TYPE rostrum_http_requests_total counter\n";
    auto name_of = [&](int i) {
        return i < static_cast<int>(routes.size()) ? std::string(routes[i].name)
                                                   : std::string("unmatched");
    };
    auto indexes = [&] {
        std::vector<int> v;
        for (int i = 0; i < static_cast<int>(routes.size()); ++i) v.push_back(i);
        v.push_back(fcgi::kMaxRoutes - 1);
        return v;
    }();
    for (int i : indexes) {
        for (int s = 0; s < fcgi::kNumStatuses; ++s) {
            uint64_t n = b.routes[i].by_status[s].load();
            if (n == 0) continue;
            std::string status =
                s < fcgi::kNumStatuses - 1 ? std::to_string(fcgi::kStatusCodes[s]) : "other";
            out += "rostrum_http_requests_total{route=\"" + name_of(i) + "\",status=\"" + status +
                   "\"} " + std::to_string(n) + "\n";
        }
    }
    out += "# HELP rostrum_http_request_duration_seconds Time from request read to response.\n";
    out += "# TYPE rostrum_http_request_duration_seconds histogram\n";
    for (int i : indexes) {
        const fcgi::RouteCounters& rc = b.routes[i];
        uint64_t total = 0;
        for (int k = 0; k < fcgi::kNumBuckets; ++k) total += rc.latency[k].load();
        if (total == 0) continue;
        uint64_t cumulative = 0;
        std::string label = "route=\"" + name_of(i) + "\"";
        for (int k = 0; k < fcgi::kNumBuckets; ++k) {
            cumulative += rc.latency[k].load();
            char le[32];
            if (k < fcgi::kNumBuckets - 1) {
                std::snprintf(le, sizeof le, "%g", fcgi::kLatencyBuckets[k]);
            } else {
                std::snprintf(le, sizeof le, "+Inf");
            }
            out += "rostrum_http_request_duration_seconds_bucket{" + label + ",le=\"" + le +
                   "\"} " + std::to_string(cumulative) + "\n";
        }
        char sum[32];
        std::snprintf(sum, sizeof sum, "%.6f", rc.latency_sum_us.load() / 1e6);
        out += "rostrum_http_request_duration_seconds_sum{" + label + "} " + sum + "\n";
        out += "rostrum_http_request_duration_seconds_count{" + label + "} " +
               std::to_string(total) + "\n";
    }
}

void append_pool_metrics(std::string& out, const fcgi::Scoreboard& b) {
    int busy = 0, alive = 0;
    for (const auto& s : b.slots) {
        if (s.pid.load() == 0) continue;
        ++alive;
        if (s.started_ms.load() != 0) ++busy;
    }
    out += "# HELP rostrum_workers Worker processes alive, and busy with a request.\n";
    out += "# TYPE rostrum_workers gauge\n";
    out += "rostrum_workers{state=\"alive\"} " + std::to_string(alive) + "\n";
    out += "rostrum_workers{state=\"busy\"} " + std::to_string(busy) + "\n";
    out += "# HELP rostrum_worker_restarts_total Workers that died unplanned and were replaced.\n";
    out += "# TYPE rostrum_worker_restarts_total counter\n";
    out += "rostrum_worker_restarts_total " + std::to_string(b.worker_restarts.load()) + "\n";
    out += "# HELP rostrum_worker_recycles_total Workers retired after api.max_requests.\n";
    out += "# TYPE rostrum_worker_recycles_total counter\n";
    out += "rostrum_worker_recycles_total " + std::to_string(b.worker_recycles.load()) + "\n";
}

}  // namespace

Response metrics_get(Request&, Ctx& ctx) {
    std::string out;
    if (ctx.board) {
        append_route_metrics(out, *ctx.board);
        append_pool_metrics(out, *ctx.board);
    }
    return Response::text(200, "text/plain; version=0.0.4", std::move(out));
}

}  // namespace handlers
