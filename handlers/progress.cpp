// Practice progress (GET /progress), goals (GET/PUT /me/goals) and recommendations
// (GET /recommendations). The figures are aggregated in SQL (db/progress.cpp); this file
// decides what is better, which goals are met, what counts as a highlight and which
// resources fit the caller, and says each in a sentence.
#include "handlers/progress.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/numbers.h"
#include "core/problem.h"
#include "db/goals.h"
#include "db/learning_resources.h"
#include "db/progress.h"
#include "db/session_rules.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "speech/metrics.h"

namespace handlers {

const MetricInfo* find_metric(std::string_view name) {
    for (const MetricInfo& m : kMetrics)
        if (name == m.name) return &m;
    return nullptr;
}

namespace {

constexpr const char* kBuckets[] = {"week", "month"};
constexpr const char* kDirections[] = {"at_most", "at_least"};
constexpr size_t kMaxGoals = 10;
constexpr size_t kMaxZoneChars = 64;
constexpr size_t kMaxRecommendations = 10;

// clang-format off
// The query of GET /progress, and its answer's top-level fields (written by progress_get; the
// operation's description in openapi.json explains every figure).
constexpr Field kProgressFields[] = {
    {.name = "bucket", .type = Type::enumeration, .use = kFilter | kOut, .values = kBuckets,
     .description = "week (Monday to Sunday) or month; default month"},
    {.name = "from", .type = Type::timestamp, .use = kFilter, .description = "sessions created at or after"},
    {.name = "to", .type = Type::timestamp, .use = kFilter, .description = "sessions created before"},
    {.name = "kind", .type = Type::enumeration, .use = kFilter, .values = db::kSessionKinds,
     .description = "only sessions of this kind; default all"},
    {.name = "tz", .type = Type::string, .use = kFilter | kOut,
     .description = "IANA time zone the buckets, days and dates are in (Europe/Helsinki); default UTC; unknown: 422"},
    {.name = "buckets", .type = Type::array, .use = kOut,
     .description = "oldest first: {start, date, label, sessions, minutes, wpm, articulation_wpm, fillers_per_min, "
                    "pauses_per_min, pitch_range_semitones, overall, scores, goals}"},
    {.name = "improvement", .type = Type::object, .use = kOut,
     .description = "per metric, the last bucket against the one before: {from, to, change, better, direction}"},
    {.name = "highlights", .type = Type::array, .use = kOut,
     .description = "{kind: personal_best|streak|goal_met, session_id, metric, value, text}"},
    {.name = "goals", .type = Type::array, .use = kOut,
     .description = "each goal in the last bucket: {metric, target, direction, value, met}"},
    {.name = "streak_days", .type = Type::integer, .use = kOut,
     .description = "consecutive days with a session up to today or yesterday in the zone"},
};

using Rec = db::Goal;
constexpr Field kGoalFields[] = {
    {.name = "metric", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(metric), .values = kMetricNames},
    {.name = "target", .type = Type::number, .use = kOut, .get = FIELD_GET(target), .min = 0, .max = 10000,
     .description = "0 up to the metric's bound (scores 100, fillers_per_min 60, wpm 400, ...)"},
    {.name = "direction", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(direction),
     .values = kDirections, .description = "at_most: met when the value is at or below the target"},
};
// clang-format on

}  // namespace

constexpr Resource kProgress{.schema = "Progress", .fields = kProgressFields};
constexpr Resource kGoals{.schema = "Goal", .fields = kGoalFields};

namespace {

// ---- words -----------------------------------------------------------------------------------

std::string printf_text(const char* fmt, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

// A value as a person writes it: whole numbers for scores, counts and pace, one decimal else.
std::string say(const MetricInfo& m, double v) {
    bool whole = m.better == Better::band || m.max == 100 || std::string_view(m.name) == "sessions";
    return printf_text(whole ? "%.0f" : "%.1f", v);
}

std::string say_with_unit(const MetricInfo& m, double v) {
    std::string s = say(m, v);
    return *m.unit ? s + " " + m.unit : s;
}

std::string in_session(const std::string& title, const std::string& day) {
    return (title.empty() ? std::string("in a session") : "in \u201c" + title + "\u201d") + " on " +
           day;
}

std::string band_words() {
    return printf_text("%.0f", speech::kPaceGoodLowWpm) + "\u2013" +
           printf_text("%.0f", speech::kPaceGoodHighWpm) + " words per minute";
}

double band_distance(double wpm) {
    if (wpm < speech::kPaceGoodLowWpm) return speech::kPaceGoodLowWpm - wpm;
    if (wpm > speech::kPaceGoodHighWpm) return wpm - speech::kPaceGoodHighWpm;
    return 0;
}

const char* direction_name(Better b) {
    switch (b) {
        case Better::lower:
            return "lower";
        case Better::higher:
            return "higher";
        case Better::band:
            return "into_band";
        case Better::neither:
            break;
    }
    return "none";
}

// Whether moving from `from` to `to` is an improvement for the metric.
bool is_better(const MetricInfo& m, double from, double to) {
    switch (m.better) {
        case Better::lower:
            return to < from;
        case Better::higher:
            return to > from;
        case Better::band:
            return band_distance(to) < band_distance(from);
        case Better::neither:
            break;
    }
    return false;
}

// ---- goals -----------------------------------------------------------------------------------

bool goal_met(const db::Goal& g, double v) {
    return g.direction == "at_most" ? v <= g.target : v >= g.target;
}

void write_number_or_null(core::JsonWriter& w, const std::optional<double>& v) {
    if (v)
        w.raw(core::fixed3(*v));
    else
        w.null();
}

void write_goal_status(core::JsonWriter& w, const std::vector<db::Goal>& goals,
                       const db::Bucket* b) {
    w.begin_array();
    for (const db::Goal& g : goals) {
        std::optional<double> v;
        if (b) v = b->values.at(g.metric);
        w.begin_object().field("metric", g.metric).key("target").raw(core::fixed3(g.target));
        w.field("direction", g.direction).key("value");
        write_number_or_null(w, v);
        w.key("met");
        if (v)
            w.value(goal_met(g, *v));
        else
            w.null();
        w.end_object();
    }
    w.end_array();
}

void write_goals_array(core::JsonWriter& w, const std::vector<db::Goal>& goals) {
    w.begin_array();
    for (const db::Goal& g : goals) {
        w.begin_object();
        write_fields(w, kGoals, &g);
        w.end_object();
    }
    w.end_array();
}

// ---- buckets and improvement -------------------------------------------------------------------

void write_bucket(core::JsonWriter& w, const db::Bucket& b, const std::vector<db::Goal>& goals) {
    w.begin_object().field("start", b.start).field("date", b.local_date).field("label", b.label);
    w.field("sessions", b.sessions).key("minutes").raw(core::fixed3(b.minutes));
    for (const char* m : {"wpm", "articulation_wpm", "fillers_per_min", "pauses_per_min",
                          "pitch_range_semitones", "overall"}) {
        w.key(m);
        write_number_or_null(w, b.values.at(m));
    }
    w.key("scores").begin_object();
    for (const char* m : {"pace", "fluency", "clarity", "confidence", "overall"}) {
        w.key(m);
        write_number_or_null(w, b.values.at(m));
    }
    w.end_object().key("goals");
    write_goal_status(w, goals, &b);
    w.end_object();
}

void write_improvement(core::JsonWriter& w, const std::vector<db::Bucket>& buckets) {
    w.begin_object();
    if (buckets.size() >= 2) {
        const db::Bucket& before = buckets[buckets.size() - 2];
        const db::Bucket& last = buckets.back();
        for (const MetricInfo& m : kMetrics) {
            auto from = before.values.at(m.name), to = last.values.at(m.name);
            if (!from || !to) continue;
            w.key(m.name).begin_object().key("from").raw(core::fixed3(*from));
            w.key("to").raw(core::fixed3(*to)).key("change").raw(core::fixed3(*to - *from));
            w.field("better", is_better(m, *from, *to))
                .field("direction", direction_name(m.better));
            w.end_object();
        }
    }
    w.end_object();
}

// ---- highlights
// -----------------------------------------------------------------------------------

struct Highlight {
    std::string kind, session_id, metric;
    double value = 0;
    std::string text;
};

std::string best_text(const db::Best& b) {
    std::string where = in_session(b.title, b.day);
    if (b.metric == "fillers_per_min")
        return "Your fewest fillers yet: " + printf_text("%.1f", b.value) + " a minute " + where +
               ".";
    if (b.metric == "overall")
        return "Your best overall score yet: " + printf_text("%.0f", b.value) + " out of 100 " +
               where + ".";
    if (b.metric == "pitch_range_semitones")
        return "Your most varied voice yet: a pitch range of " + printf_text("%.1f", b.value) +
               " semitones " + where + ".";
    return "Your longest talk at a comfortable pace (" + band_words() +
           "): " + printf_text("%.1f", b.value / 60) + " minutes " + where + ".";
}

std::vector<Highlight> streak_highlights(const db::Streaks& days, const db::Streaks& weeks) {
    std::vector<Highlight> out;
    if (days.longest && days.longest->length >= 2) {
        const db::Streak& s = *days.longest;
        out.push_back({"streak", s.session_id, "streak_days", static_cast<double>(s.length),
                       "You practised " + std::to_string(s.length) + " days in a row, from " +
                           s.first_day + " to " + s.last_day + "."});
    }
    if (weeks.longest && weeks.longest->length >= 2) {
        const db::Streak& s = *weeks.longest;
        out.push_back({"streak", s.session_id, "streak_weeks", static_cast<double>(s.length),
                       "You practised every week for " + std::to_string(s.length) +
                           " weeks in a row, from " + s.first_day + " to " + s.last_day + "."});
    }
    return out;
}

std::string goal_words(const db::Goal& g) {
    const MetricInfo& m = *find_metric(g.metric);
    std::string side = g.direction == "at_most" ? "at most " : "at least ";
    return side + say(m, g.target) + " " + m.words;
}

// The goals the last bucket meets, each pointing at its latest session (the range's latest).
std::vector<Highlight> goal_highlights(const std::vector<db::Goal>& goals, const db::Bucket& b,
                                       const std::string& bucket, const std::string& latest) {
    std::vector<Highlight> out;
    for (const db::Goal& g : goals) {
        auto v = b.values.at(g.metric);
        if (!v || !goal_met(g, *v)) continue;
        const MetricInfo& m = *find_metric(g.metric);
        bool total = g.metric == "sessions" || g.metric == "minutes";
        std::string when = bucket == "month" ? "in " + b.label : "in the " + b.label;
        out.push_back({"goal_met", latest, g.metric, *v,
                       "You met your goal of " + goal_words(g) + " " + when + ": " +
                           say_with_unit(m, *v) + (total ? "." : " on average.")});
    }
    return out;
}

void write_highlights(core::JsonWriter& w, const std::vector<Highlight>& hs) {
    w.begin_array();
    for (const Highlight& h : hs) {
        w.begin_object().field("kind", h.kind).field("session_id", h.session_id);
        w.field("metric", h.metric).key("value").raw(core::fixed3(h.value));
        w.field("text", h.text).end_object();
    }
    w.end_array();
}

// ---- the query --------------------------------------------------------------------------------

// Zones this process has confirmed: pg_timezone_names reads the zone files on every query
// (milliseconds), and a report is asked for in the same few zones again and again.
bool zone_known(Ctx& ctx, const std::string& tz) {
    static std::set<std::string> known;
    if (known.count(tz)) return true;
    if (!db::time_zone_known(ctx.db, tz)) return false;
    if (known.size() < 1000) known.insert(tz);
    return true;
}

std::string zone_or_422(Ctx& ctx, std::optional<std::string> tz) {
    if (!tz) return "UTC";
    auto bad = [] {
        return core::ApiError::unprocessable(
            "tz", "unknown time zone; use an IANA name such as Europe/Helsinki or UTC");
    };
    if (tz->empty() || tz->size() > kMaxZoneChars) throw bad();
    for (unsigned char c : *tz)
        if (!std::isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+') throw bad();
    if (!zone_known(ctx, *tz)) throw bad();
    return *tz;
}

db::ProgressQuery progress_query(Request& req, Ctx& ctx) {
    Input q = read_filters(kProgress, req);
    db::ProgressQuery pq;
    pq.user_id = req.user().id;
    pq.bucket = q.str("bucket").value_or("month");
    pq.from = q.str("from");
    pq.to = q.str("to");
    pq.kind = q.str("kind");
    pq.tz = zone_or_422(ctx, q.str("tz"));
    if (pq.from && pq.to && !db::range_ordered(ctx.db, *pq.from, *pq.to))
        throw core::ApiError::unprocessable("to", "must be later than from");
    return pq;
}

}  // namespace

Response progress_get(Request& req, Ctx& ctx) {
    db::ProgressQuery pq = progress_query(req, ctx);
    db::Report report = db::progress_report(ctx.db, pq);
    const std::vector<db::Bucket>& buckets = report.buckets;
    std::vector<db::Goal> goals = db::list_goals(ctx.db, pq.user_id);
    int64_t total = 0;
    for (const auto& b : buckets) total += b.sessions;

    std::vector<Highlight> highlights;
    // One session is no record: personal bests need something to beat.
    if (total >= 2)
        for (const db::Best& b : report.bests)
            highlights.push_back({"personal_best", b.session_id, b.metric, b.value, best_text(b)});
    for (auto& h : streak_highlights(report.days, report.weeks)) highlights.push_back(std::move(h));
    if (!buckets.empty())
        for (auto& h : goal_highlights(goals, buckets.back(), pq.bucket, report.latest_session_id))
            highlights.push_back(std::move(h));

    core::JsonWriter w;
    w.begin_object().field("bucket", pq.bucket).field("tz", pq.tz);
    w.key("buckets").begin_array();
    for (const auto& b : buckets) write_bucket(w, b, goals);
    w.end_array().key("improvement");
    write_improvement(w, buckets);
    w.key("highlights");
    write_highlights(w, highlights);
    w.key("goals");
    write_goal_status(w, goals, buckets.empty() ? nullptr : &buckets.back());
    w.field("streak_days", report.days.current).end_object();
    return Response::json(200, w.take());
}

// ---- goals ------------------------------------------------------------------------------------

namespace {

core::ApiError goal_error(size_t i, const char* field, std::string message, int status = 422) {
    std::string name = "[" + std::to_string(i) + "]" + (*field ? std::string(".") + field : "");
    if (status == 400) return core::ApiError::bad_request(std::move(message), name);
    return core::ApiError::unprocessable(name, std::move(message));
}

std::string goal_enum(const cJSON* item, size_t i, const char* key,
                      std::span<const char* const> values) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!v) throw goal_error(i, key, "is required");
    if (!cJSON_IsString(v)) throw goal_error(i, key, "must be a string", 400);
    for (const char* a : values)
        if (std::string_view(v->valuestring) == a) return a;
    std::string m = "must be one of";
    for (const char* a : values) m += std::string(" ") + a;
    throw goal_error(i, key, m);
}

db::Goal goal_from(const cJSON* item, size_t i) {
    if (!cJSON_IsObject(item)) throw goal_error(i, "", "must be an object", 400);
    for (const cJSON* c = item->child; c; c = c->next) {
        std::string_view k = c->string;
        if (k != "metric" && k != "target" && k != "direction")
            throw goal_error(i, c->string, "unknown field", 400);
    }
    db::Goal g;
    g.metric = goal_enum(item, i, "metric", kMetricNames);
    g.direction = goal_enum(item, i, "direction", kDirections);
    const cJSON* t = cJSON_GetObjectItemCaseSensitive(item, "target");
    if (!t) throw goal_error(i, "target", "is required");
    if (!cJSON_IsNumber(t) || !std::isfinite(t->valuedouble))
        throw goal_error(i, "target", "must be a number", 400);
    const MetricInfo& m = *find_metric(g.metric);
    if (t->valuedouble < 0 || t->valuedouble > m.max)
        throw goal_error(i, "target",
                         "must be between 0 and " + say(m, m.max) + " for " + g.metric);
    g.target = t->valuedouble;
    return g;
}

}  // namespace

std::vector<db::Goal> read_goals(const cJSON* root) {
    if (!cJSON_IsArray(root))
        throw core::ApiError::bad_request("the body must be a JSON array of goals");
    std::vector<db::Goal> goals;
    size_t i = 0;
    for (const cJSON* item = root->child; item; item = item->next, ++i) {
        if (i >= kMaxGoals)
            throw core::ApiError::unprocessable("",
                                                "at most " + std::to_string(kMaxGoals) + " goals");
        db::Goal g = goal_from(item, i);
        for (size_t j = 0; j < goals.size(); ++j)
            if (goals[j].metric == g.metric && goals[j].direction == g.direction)
                throw goal_error(i, "metric",
                                 "repeats goal [" + std::to_string(j) + "] (" + g.metric + " " +
                                     g.direction + ")");
        goals.push_back(std::move(g));
    }
    return goals;
}

namespace {

Response goals_response(const std::vector<db::Goal>& goals) {
    core::JsonWriter w;
    write_goals_array(w, goals);
    return Response::json(200, w.take());
}

}  // namespace

Response goals_get(Request& req, Ctx& ctx) {
    return goals_response(db::list_goals(ctx.db, req.user().id));
}

Response goals_put(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    std::vector<db::Goal> goals = read_goals(body.get());
    db::replace_goals(ctx.db, req.user().id, goals);
    return goals_response(goals);
}

// ---- recommendations ----------------------------------------------------------------------------

namespace {

// A reason to practise something: which metric (or competency), how much it matters, in words.
struct Weakness {
    std::string metric;
    double severity = 0;
    std::string reason;
};

// Where a metric should be when the user set no goal for it: fillers at most 3 a minute
// (the analysis' 2 per 100 words at a typical 140 wpm), a pitch range of at least 4
// semitones (below it a voice sounds flat), every score at least 70.
std::optional<db::Goal> default_target(const MetricInfo& m) {
    std::string_view n = m.name;
    if (n == "fillers_per_min") return db::Goal{m.name, 3, "at_most"};
    if (n == "pitch_range_semitones") return db::Goal{m.name, 4, "at_least"};
    if (m.max == 100) return db::Goal{m.name, 70, "at_least"};
    return std::nullopt;
}

std::optional<db::Goal> target_for(const MetricInfo& m, const std::vector<db::Goal>& goals) {
    const char* weak_side = m.better == Better::lower ? "at_most" : "at_least";
    for (const db::Goal& g : goals)
        if (g.metric == m.name && g.direction == weak_side) return g;
    return default_target(m);
}

// How far past its target the metric is (0 when it is fine), relative to the target.
double gap(const MetricInfo& m, const std::optional<db::Goal>& t, double v) {
    if (m.better == Better::band) return band_distance(v) / 20;
    if (!t) return 0;
    if (m.better == Better::lower) return std::max(0.0, v - t->target) / std::max(t->target, 0.5);
    return std::max(0.0, t->target - v) / std::max(t->target, 1.0);
}

// How much worse it got than in the 30 days before (0 when it did not), relative.
double decline(const MetricInfo& m, double prev, double cur) {
    double worse = 0;
    if (m.better == Better::lower) worse = cur - prev;
    if (m.better == Better::higher) worse = prev - cur;
    if (m.better == Better::band) worse = band_distance(cur) - band_distance(prev);
    double scale = m.better == Better::band ? 20 : std::max(std::fabs(prev), 1.0);
    return std::max(0.0, worse) / scale;
}

// A decline counts when it is more than a tenth (or two words a minute of pace).
constexpr double kNotableDecline = 0.1;

std::string weakness_reason(const MetricInfo& m, const std::optional<db::Goal>& t,
                            std::optional<double> prev, double cur, bool declined) {
    if (declined && prev) {
        if (m.better == Better::band)
            return "your pace moved from " + say(m, *prev) + " to " + say(m, cur) +
                   " words per minute this month, away from the " + band_words() + " band";
        const char* verb = m.better == Better::lower ? " rose from " : " fell from ";
        return "your " + std::string(m.words) + verb + say(m, *prev) + " to " + say(m, cur) +
               " this month";
    }
    if (m.better == Better::band)
        return "your pace averaged " + say(m, cur) + " words per minute over the last 30 days, " +
               (cur < speech::kPaceGoodLowWpm ? "below" : "above") + " the " + band_words() +
               " band";
    std::string whose = t && default_target(m) && t->target == default_target(m)->target
                            ? "the " + say(m, t->target) + " to aim for"
                            : "your goal of " + say(m, t->target);
    return "your " + std::string(m.words) + " averaged " + say(m, cur) +
           " over the last 30 days, " + (m.better == Better::lower ? "above " : "below ") + whose;
}

std::vector<Weakness> metric_weaknesses(const db::RecentFigures& f,
                                        const std::vector<db::Goal>& goals) {
    std::vector<Weakness> out;
    for (const MetricInfo& m : kMetrics) {
        if (m.better == Better::neither || std::string_view(m.name) == "sessions" ||
            std::string_view(m.name) == "minutes")
            continue;
        auto cur = f.current.count(m.name) ? f.current.at(m.name) : std::nullopt;
        if (!cur) continue;
        auto prev = f.previous.count(m.name) ? f.previous.at(m.name) : std::nullopt;
        auto t = target_for(m, goals);
        double d = prev ? decline(m, *prev, *cur) : 0;
        bool declined = d > kNotableDecline;
        double severity = gap(m, t, *cur) + (declined ? d : 0);
        if (severity <= 0) continue;
        out.push_back({m.name, severity, weakness_reason(m, t, prev, *cur, declined)});
    }
    return out;
}

// Interview competencies (communication, relevance, structure, fluency, confidence) join here
// when the interviews table exists (API.md "Interviews"; not built yet): read the caller's
// scorecards of the last 30 days and add one Weakness per competency scoring under 70, with a
// reason such as "your answers' structure averaged 52 in 4 interviews this month". The
// resources are already tagged with those names, so ranking needs no change.
std::vector<Weakness> interview_weaknesses(Ctx&, const std::string&) {
    return {};
}

// The tags that also serve a metric: a filler habit is a fluency matter, pace has its score.
std::vector<std::string> tags_for(const std::string& metric) {
    if (metric == "wpm") return {"wpm", "pace"};
    if (metric == "fillers_per_min" || metric == "pauses_per_min") return {metric, "fluency"};
    return {metric};
}

bool tagged(const db::LearningResource& r, const std::vector<std::string>& tags) {
    for (const auto& t : tags)
        if (std::find(r.tag_list.begin(), r.tag_list.end(), t) != r.tag_list.end()) return true;
    return false;
}

struct Pick {
    const db::LearningResource* resource;
    const Weakness* why;
    double score;
};

// Each resource scores the severity of the worst weakness it helps, plus a little for each
// other one it helps too; it is explained by the worst. An exact tag (fillers_per_min) beats a
// related one (fluency) for the same weakness.
std::vector<Pick> rank(const std::vector<db::LearningResource>& resources,
                       const std::vector<Weakness>& weak) {
    std::vector<Pick> picks;
    for (const auto& r : resources) {
        Pick p{&r, nullptr, 0};
        for (const Weakness& w : weak) {
            if (!tagged(r, tags_for(w.metric))) continue;
            double s = w.severity * (tagged(r, {w.metric}) ? 1.0 : 0.8);
            if (!p.why || s > p.score) {
                if (p.why)
                    p.score = s + 0.1 * p.score;
                else
                    p.score = s;
                p.why = &w;
            } else {
                p.score += 0.1 * s;
            }
        }
        if (p.why) picks.push_back(p);
    }
    std::stable_sort(picks.begin(), picks.end(),
                     [](const Pick& a, const Pick& b) { return a.score > b.score; });
    if (picks.size() > kMaxRecommendations) picks.resize(kMaxRecommendations);
    return picks;
}

std::vector<std::string> all_tags(const std::vector<Weakness>& weak) {
    std::vector<std::string> out;
    for (const Weakness& w : weak)
        for (auto& t : tags_for(w.metric)) out.push_back(std::move(t));
    return out;
}

}  // namespace

Response recommendations_get(Request& req, Ctx& ctx) {
    const std::string& user = req.user().id;
    db::RecentFigures f = db::recent_figures(ctx.db, user);
    std::vector<Weakness> weak = metric_weaknesses(f, db::list_goals(ctx.db, user));
    for (auto& w : interview_weaknesses(ctx, user)) weak.push_back(std::move(w));
    std::stable_sort(weak.begin(), weak.end(),
                     [](const Weakness& a, const Weakness& b) { return a.severity > b.severity; });
    // Nothing to work on (no sessions, or every figure on target): the all-round resources.
    if (weak.empty())
        weak.push_back({"overall", 0.01,
                        f.sessions == 0 ? "no finished sessions in the last 30 days: a good "
                                          "place to start"
                                        : "every figure is on target over the last 30 days: "
                                          "a way to go further"});
    std::vector<db::LearningResource> resources =
        db::learning_resources_tagged(ctx.db, db::array_literal(all_tags(weak)));
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const Pick& p : rank(resources, weak)) {
        w.begin_object().key("resource").raw(to_json(kLearningResources, *p.resource));
        w.field("reason", p.why->reason).field("metric", p.why->metric).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

}  // namespace handlers
