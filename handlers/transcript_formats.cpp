// Subtitle cue grouping and rendering.
#include "handlers/transcript_formats.h"

#include <cmath>
#include <cstdio>

namespace handlers {
namespace {

constexpr double kCuePause = 1.0;
constexpr double kCueMaxSeconds = 7.0;
constexpr size_t kCueMaxWords = 12;

}  // namespace

std::vector<Cue> group_cues(const std::vector<db::StoredWord>& words) {
    std::vector<Cue> cues;
    size_t in_cue = 0;
    for (const db::StoredWord& w : words) {
        bool start_new = cues.empty() || w.start_s - cues.back().end_s >= kCuePause ||
                         w.end_s - cues.back().start_s > kCueMaxSeconds || in_cue >= kCueMaxWords;
        if (start_new) {
            cues.push_back({w.start_s, w.end_s, w.word});
            in_cue = 1;
        } else {
            cues.back().end_s = w.end_s;
            cues.back().text += " " + w.word;
            ++in_cue;
        }
    }
    return cues;
}

std::string subtitle_time(double seconds, char sep) {
    if (!(seconds > 0)) seconds = 0;
    auto ms = static_cast<long long>(std::llround(seconds * 1000));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
                  ms / 1000 % 60, sep, ms % 1000);
    return buf;
}

std::string render_srt(const std::vector<db::StoredWord>& words) {
    std::string out;
    int n = 0;
    for (const Cue& c : group_cues(words)) {
        out += std::to_string(++n) + "\n" + subtitle_time(c.start_s, ',') + " --> " +
               subtitle_time(c.end_s, ',') + "\n" + c.text + "\n\n";
    }
    return out;
}

std::string render_vtt(const std::vector<db::StoredWord>& words) {
    std::string out = "WEBVTT\n\n";
    for (const Cue& c : group_cues(words)) {
        out += subtitle_time(c.start_s, '.') + " --> " + subtitle_time(c.end_s, '.') + "\n" +
               c.text + "\n\n";
    }
    return out;
}

}  // namespace handlers
