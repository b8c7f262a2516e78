// Transcript renderings: plain text, SubRip (.srt) and WebVTT (.vtt). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "db/sessions.h"

namespace handlers {

// Words grouped into subtitle cues: a new cue after a pause of ≥ 1 s, or when the cue would
// pass 7 s or 12 words (readable on screen).
struct Cue {
    double start_s;
    double end_s;
    std::string text;
};
std::vector<Cue> group_cues(const std::vector<db::StoredWord>& words);

std::string render_srt(const std::vector<db::StoredWord>& words);
std::string render_vtt(const std::vector<db::StoredWord>& words);
// "00:01:02,500" (srt) or "00:01:02.500" (vtt).
std::string subtitle_time(double seconds, char millis_separator);

}  // namespace handlers
