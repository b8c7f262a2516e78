// Progress queries (see db/progress.h). $1 user, $2 zone, $3 from, $4 to, $5 kind in every
// statement that reads the filtered sessions: one fixed fragment, NULL meaning "any".
#include "db/progress.h"

namespace db {
namespace {

// The caller's done sessions in the range, with their analysis columns and local time.
// sessions_user_done_created_idx answers the WHERE with an index range scan.
#define DONE_SESSIONS_BODY                                                               \
    "SELECT s.id, s.title, s.created_at, s.created_at AT TIME ZONE $2::text AS local, "  \
    "s.duration_s, a.wpm, "                                                              \
    "a.articulation_wpm, a.fillers_per_min, a.pauses_per_min, a.pitch_range_semitones, " \
    "a.overall::float8 AS overall, a.score_pace AS pace, a.score_fluency AS fluency, "   \
    "a.score_clarity AS clarity, a.score_confidence AS confidence, a.pace_band "         \
    "FROM sessions s JOIN analyses a ON a.session_id = s.id "                            \
    "WHERE s.user_id = $1 AND s.status = 'done' "                                        \
    "AND ($3::timestamptz IS NULL OR s.created_at >= $3) "                               \
    "AND ($4::timestamptz IS NULL OR s.created_at < $4) "                                \
    "AND ($5::text IS NULL OR s.kind = $5)"
#define DONE_SESSIONS "WITH s AS (" DONE_SESSIONS_BODY ") "

#define AVERAGES                                                                       \
    "avg(wpm) AS wpm, avg(articulation_wpm) AS articulation_wpm, "                     \
    "avg(fillers_per_min) AS fillers_per_min, avg(pauses_per_min) AS pauses_per_min, " \
    "avg(pitch_range_semitones) AS pitch_range_semitones, avg(overall) AS overall, "   \
    "avg(pace) AS pace, avg(fluency) AS fluency, avg(clarity) AS clarity, "            \
    "avg(confidence) AS confidence "

constexpr Statement kZoneKnown{"progress_zone_known",
                               "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
                               kIdempotent};

constexpr Statement kRangeOrdered{"progress_range_ordered",
                                  "SELECT $1::timestamptz < $2::timestamptz", kIdempotent};

// A whole report in one statement, from one reading of the caller's sessions (MATERIALIZED:
// the join with analyses is most of the cost, paid once). Rows by `part`:
// - bucket: one per week or month ($7), starting at the zone's local midnight (Monday for
//   weeks), with the means of the analysis figures, each session counting once;
// - best: the personal bests among sessions of at least $6 seconds (ties go to the earlier
//   session: a record is the first time it was reached);
// - latest: the range's latest session;
// - streak: per unit (day, week), the longest run of consecutive periods with a session, by
//   gaps and islands (consecutive periods minus their row number are constant along a run),
//   and the length of the run reaching the current or the previous period.
constexpr Statement kReport{"progress_report",
                            "WITH s AS MATERIALIZED (" DONE_SESSIONS_BODY R"sql(),
    b AS (SELECT * FROM s WHERE duration_s >= $6::float8),
    p AS (SELECT u.unit, u.step, date_trunc(u.unit, s.local)::date AS period,
                 max(s.created_at) AS last_at
          FROM s CROSS JOIN (VALUES ('day', 1), ('week', 7)) AS u(unit, step) GROUP BY 1, 2, 3),
    g AS (SELECT unit, step, period, last_at,
                 period - (step * row_number() OVER (PARTITION BY unit ORDER BY period))::int
                     AS island
          FROM p),
    runs AS (SELECT unit, step, min(period) AS first, max(period) AS last, count(*) AS length,
                    max(last_at) AS last_at FROM g GROUP BY unit, step, island),
    longest AS (SELECT DISTINCT ON (unit) * FROM runs ORDER BY unit, length DESC, last DESC),
    bk AS (SELECT date_trunc($7::text, local) AS k, count(*) AS sessions,
                  coalesce(sum(duration_s), 0) / 60 AS minutes, )sql" AVERAGES R"sql(
           FROM s GROUP BY 1),
    e AS ((SELECT 'best' AS part, 'fillers_per_min' AS metric, id, title,
            to_char(local, 'FMDD FMMonth YYYY') AS day, fillers_per_min AS value,
            NULL::bigint AS length, NULL::text AS first_day, NULL::text AS last_day,
            NULL::bigint AS current
       FROM b WHERE fillers_per_min IS NOT NULL ORDER BY fillers_per_min, created_at LIMIT 1)
    UNION ALL
    (SELECT 'best', 'overall', id, title, to_char(local, 'FMDD FMMonth YYYY'), overall,
            NULL, NULL, NULL, NULL
       FROM b WHERE overall IS NOT NULL ORDER BY overall DESC, created_at LIMIT 1)
    UNION ALL
    (SELECT 'best', 'pitch_range_semitones', id, title, to_char(local, 'FMDD FMMonth YYYY'),
            pitch_range_semitones, NULL, NULL, NULL, NULL
       FROM b WHERE pitch_range_semitones IS NOT NULL
      ORDER BY pitch_range_semitones DESC, created_at LIMIT 1)
    UNION ALL
    (SELECT 'best', 'duration_s', id, title, to_char(local, 'FMDD FMMonth YYYY'), duration_s,
            NULL, NULL, NULL, NULL
       FROM b WHERE pace_band = 'good' ORDER BY duration_s DESC, created_at LIMIT 1)
    UNION ALL
    (SELECT 'latest', NULL, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
       FROM s ORDER BY created_at DESC, id DESC LIMIT 1)
    UNION ALL
    SELECT 'streak', l.unit,
           (SELECT id FROM s WHERE s.created_at = l.last_at ORDER BY id DESC LIMIT 1), NULL, NULL,
           NULL, l.length, to_char(l.first, 'FMDD FMMonth YYYY'),
           to_char(l.last + (l.step - 1), 'FMDD FMMonth YYYY'),
           coalesce((SELECT max(r.length) FROM runs r
                      WHERE r.unit = l.unit
                        AND r.last >= date_trunc(l.unit, now() AT TIME ZONE $2::text)::date - l.step),
                    0)
      FROM longest l)
    SELECT e.*, NULL::text AS start, NULL::text AS local_date, NULL::text AS label,
           NULL::bigint AS sessions, NULL::float8 AS minutes, NULL::float8 AS wpm,
           NULL::float8 AS articulation_wpm, NULL::float8 AS fillers_per_min,
           NULL::float8 AS pauses_per_min, NULL::float8 AS pitch_range_semitones,
           NULL::float8 AS overall, NULL::float8 AS pace, NULL::float8 AS fluency,
           NULL::float8 AS clarity, NULL::float8 AS confidence
      FROM e
    UNION ALL
    SELECT 'bucket', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           api_time(k AT TIME ZONE $2::text), to_char(k, 'YYYY-MM-DD'),
           CASE WHEN $7::text = 'month' THEN to_char(k, 'FMMonth YYYY')
                ELSE 'week of ' || to_char(k, 'FMDD FMMonth YYYY') END,
           sessions, minutes, wpm, articulation_wpm, fillers_per_min, pauses_per_min,
           pitch_range_semitones, overall, pace, fluency, clarity, confidence
      FROM bk
    ORDER BY part, local_date)sql",
                            kIdempotent};

constexpr Statement kRecent{"progress_recent", R"sql(
    WITH x AS (SELECT a.wpm, a.articulation_wpm, a.fillers_per_min, a.pauses_per_min,
                      a.pitch_range_semitones, a.overall::float8 AS overall, a.score_pace AS pace,
                      a.score_fluency AS fluency, a.score_clarity AS clarity,
                      a.score_confidence AS confidence,
                      s.created_at >= now() - interval '30 days' AS cur
               FROM sessions s JOIN analyses a ON a.session_id = s.id
               WHERE s.user_id = $1 AND s.status = 'done'
                 AND s.created_at >= now() - interval '60 days')
    SELECT cur, count(*) AS sessions, )sql" AVERAGES R"sql(
    FROM x GROUP BY cur)sql",
                            kIdempotent};

std::vector<Param> params(const ProgressQuery& q) {
    return {q.user_id, q.tz, q.from, q.to, q.kind};
}

MetricValues values_from(const Row& row) {
    MetricValues v;
    for (const char* m : kProgressMetrics) v[m] = row.opt_f64(m);
    return v;
}

}  // namespace

bool time_zone_known(Db& db, const std::string& tz) {
    return db.exec(kZoneKnown, {tz}).scalar_bool();
}

bool range_ordered(Db& db, const std::string& from, const std::string& to) {
    return db.exec(kRangeOrdered, {from, to}).scalar_bool();
}

static Bucket bucket_from(const Row& row) {
    Bucket b;
    b.start = row.str("start");
    b.local_date = row.str("local_date");
    b.label = row.str("label");
    b.sessions = row.i64("sessions");
    b.minutes = row.f64("minutes");
    b.values = values_from(row);
    b.values["sessions"] = static_cast<double>(b.sessions);
    b.values["minutes"] = b.minutes;
    return b;
}

Report progress_report(Db& db, const ProgressQuery& q) {
    std::vector<Param> p = params(q);
    p.push_back(std::to_string(static_cast<int>(kMinBestSeconds)));
    p.push_back(q.bucket);
    Result r = db.exec(kReport, p);
    Report out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        std::string part = row.str("part");
        if (part == "bucket") {
            out.buckets.push_back(bucket_from(row));
        } else if (part == "best") {
            out.bests.push_back({row.str("metric"), row.str("id"), row.str("title"), row.str("day"),
                                 row.f64("value")});
        } else if (part == "latest") {
            out.latest_session_id = row.str("id");
        } else {
            Streaks& st = row.str("metric") == "week" ? out.weeks : out.days;
            st.longest =
                Streak{row.i64("length"), row.str("first_day"), row.str("last_day"), row.str("id")};
            st.current = row.i64("current");
        }
    }
    return out;
}

RecentFigures recent_figures(Db& db, const std::string& user_id) {
    Result r = db.exec(kRecent, {user_id});
    RecentFigures out;
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        if (row.boolean("cur")) {
            out.sessions = row.i64("sessions");
            out.current = values_from(row);
        } else {
            out.previous_sessions = row.i64("sessions");
            out.previous = values_from(row);
        }
    }
    return out;
}

}  // namespace db
