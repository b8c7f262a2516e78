// What progress.cpp and resources.cpp share: the metrics a report shows, goals may target and
// resources are tagged with, and their directions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "db/goals.h"

namespace handlers {

// Which way a metric improves. band: into the pace band (speech/metrics.h), not up or down.
enum class Better { lower, higher, band, neither };

struct MetricInfo {
    const char* name;   // JSON field and SQL alias
    const char* words;  // in a sentence: "fillers per minute"
    const char* unit;   // after a value: "words per minute", "" for scores and counts
    Better better;
    double max;  // a goal's target is 0..max
};

// clang-format off
inline constexpr MetricInfo kMetrics[] = {
    {"wpm",                   "pace",               "words per minute", Better::band,    400},
    {"articulation_wpm",      "articulation rate",  "words per minute", Better::neither, 600},
    {"fillers_per_min",       "fillers per minute", "a minute",         Better::lower,   60},
    {"pauses_per_min",        "pauses per minute",  "a minute",         Better::lower,   120},
    {"pitch_range_semitones", "pitch range",        "semitones",        Better::higher,  48},
    {"overall",               "overall score",      "",                 Better::higher,  100},
    {"pace",                  "pace score",         "",                 Better::higher,  100},
    {"fluency",               "fluency score",      "",                 Better::higher,  100},
    {"clarity",               "clarity score",      "",                 Better::higher,  100},
    {"confidence",            "confidence score",   "",                 Better::higher,  100},
    {"sessions",              "sessions",           "",                 Better::higher,  1000},
    {"minutes",               "minutes practised",  "minutes",          Better::higher,  10000},
};
// clang-format on
inline constexpr const char* kMetricNames[] = {"wpm",
                                               "articulation_wpm",
                                               "fillers_per_min",
                                               "pauses_per_min",
                                               "pitch_range_semitones",
                                               "overall",
                                               "pace",
                                               "fluency",
                                               "clarity",
                                               "confidence",
                                               "sessions",
                                               "minutes"};
static_assert(std::size(kMetricNames) == std::size(kMetrics));

const MetricInfo* find_metric(std::string_view name);

// PUT /me/goals' body: at most 10 goals; errors name the item ("[2].target"): 400 for a wrong
// shape or type, 422 for a value out of bounds.
std::vector<db::Goal> read_goals(const cJSON* root);

// A resource's tags: the report metrics and the interview scorecard's competencies.
inline constexpr const char* kResourceTags[] = {"wpm",
                                                "articulation_wpm",
                                                "fillers_per_min",
                                                "pauses_per_min",
                                                "pitch_range_semitones",
                                                "overall",
                                                "pace",
                                                "fluency",
                                                "clarity",
                                                "confidence",
                                                "communication",
                                                "relevance",
                                                "structure"};
inline constexpr int kMaxResourceTags = 12;

}  // namespace handlers
