// The reports of practice progress: a user's done sessions bucketed by week or month in a
// time zone, personal bests, streaks, and the last-30-days figures recommendations rank by.
// Everything is aggregated in SQL from the analysis columns (sql/migrations/0009_progress.sql).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

// The averaged metrics, named as their SQL aliases and JSON fields: the analysis' rates and
// its five scores (0–100).
inline constexpr const char* kProgressMetrics[] = {"wpm",
                                                   "articulation_wpm",
                                                   "fillers_per_min",
                                                   "pauses_per_min",
                                                   "pitch_range_semitones",
                                                   "overall",
                                                   "pace",
                                                   "fluency",
                                                   "clarity",
                                                   "confidence"};

using MetricValues = std::map<std::string, std::optional<double>, std::less<>>;

struct ProgressQuery {
    std::string user_id;
    std::string bucket;  // "week" | "month"
    std::string tz;      // an IANA zone PostgreSQL knows
    std::optional<std::string> from, to, kind;
};

struct Bucket {
    std::string start;       // RFC 3339 (UTC) of the bucket's first local midnight
    std::string local_date;  // that midnight's date in the zone (2026-03-02)
    std::string label;       // "week of 2 March 2026" | "March 2026"
    int64_t sessions = 0;
    double minutes = 0;
    MetricValues values;  // kProgressMetrics, plus "sessions" and "minutes" for goals
};

// A session that holds a record: which metric, its value, its title and local date.
struct Best {
    std::string metric;
    std::string session_id;
    std::string title;
    std::string day;  // "12 March 2026" in the zone
    double value = 0;
};

// A run of consecutive days (or weeks) with at least one session.
struct Streak {
    int64_t length = 0;
    std::string first_day, last_day;  // "3 March 2026"
    std::string session_id;           // the run's last session
};
struct Streaks {
    std::optional<Streak> longest;
    int64_t current = 0;  // the run reaching today or yesterday (this or last week) in the zone
};

// Sessions shorter than this hold no personal best (a 3-second clip without fillers is not
// an achievement).
inline constexpr double kMinBestSeconds = 30;

// Whether PostgreSQL knows the IANA zone (pg_timezone_names).
bool time_zone_known(Db& db, const std::string& tz);
// Whether the instant `from` is before `to` (both RFC 3339 or dates, already checked).
bool range_ordered(Db& db, const std::string& from, const std::string& to);
// A report, read in one statement: the buckets (oldest first), the personal bests that
// exist (fewest fillers_per_min, best overall, widest pitch_range_semitones, longest
// duration_s in the "good" pace band), the streaks of days and of weeks, and the latest
// session in the range.
struct Report {
    std::vector<Bucket> buckets;
    std::vector<Best> bests;
    Streaks days, weeks;
    std::string latest_session_id;
};
Report progress_report(Db& db, const ProgressQuery& q);

// The caller's averages over the last 30 days and the 30 before them.
struct RecentFigures {
    int64_t sessions = 0, previous_sessions = 0;
    MetricValues current, previous;
};
RecentFigures recent_figures(Db& db, const std::string& user_id);

}  // namespace db
