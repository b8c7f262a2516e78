// Audio ingest: recognise the format by content (never by name or declared type), check the
// limits from the header, decode, downmix and resample to 16 kHz mono 16-bit — counting the
// duration while decoding, because headers lie (a 2.5 MB FLAC can hold 10 hours of silence).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace speech {

inline constexpr int kTargetRate = 16000;

struct AudioLimits {
    double max_seconds = 7200;  // upload.max_seconds
};

// Why a file was refused. The API maps: unreadable → 415, empty/too_long/invalid → 422
// (too_long may be 413 when known from the header before decoding; see the handler).
class AudioError : public std::runtime_error {
  public:
    enum class Kind { unreadable, empty, too_long, invalid };
    AudioError(Kind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
    Kind kind;
};

struct AudioInfo {
    std::string format;  // "wav", "flac", "ogg", "opus", "mp3", "webm", "m4a"
    std::string mime;    // what downloads are served as: "audio/wav", "audio/flac", ...
    int sample_rate = 0;
    int channels = 0;
    double duration_s = -1;  // from the header; -1 when the header does not say
};

// Reads the header of the file at `path`: the format by magic bytes, rate, channels and the
// duration the header claims. Throws AudioError (unreadable for unknown or corrupt formats,
// invalid for 0 channels / 0 or absurd rates, too_long when the header's duration is over the
// limit). Decodes nothing beyond what the header needs.
AudioInfo probe_file(const std::string& path, const AudioLimits& limits);

// Called with successive chunks of 16 kHz mono samples.
using SampleSink = std::function<void(const int16_t* samples, size_t n)>;

// Decodes the whole file into the sink, downmixed and resampled (libsoxr). Throws AudioError
// too_long as soon as the decoded duration passes the limit (whatever the header said), empty
// when no samples came out. Memory stays bounded: chunks of at most a few hundred ms.
void decode_16k_mono(const std::string& path, const AudioLimits& limits, const SampleSink& sink);

// Convenience: the whole file as one buffer (fine for tests and short clips).
std::vector<int16_t> decode_16k_mono(const std::string& path, const AudioLimits& limits);

// The same pipeline over bytes in memory (libsndfile virtual I/O); for the fuzz target.
std::vector<int16_t> decode_memory_16k_mono(const uint8_t* data, size_t size,
                                            const AudioLimits& limits);

}  // namespace speech
